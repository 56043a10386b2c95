package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithBuilderReplacesTheSampleBuilders(t *testing.T) {
	core := "chaincode:\n  externalBuilders:\n    - name: ccaas_builder\n      path: /opt/hyperledger/ccaas_builder\n\n  installTimeout: 300s\n"
	out, err := withBuilder([]byte(core), "/repo/network/builder")
	require.NoError(t, err)
	assert.Equal(t, "chaincode:\n  externalBuilders:\n    - name: mtrace-binary\n      path: /repo/network/builder\n"+
		"      propagateEnvironment:\n        - MTRACE_HOME\n        - MTRACE_PEER\n\n  installTimeout: 300s\n", string(out))
	_, err = withBuilder([]byte("peer:\n  id: x\n"), "/b")
	assert.ErrorContains(t, err, "no chaincode.externalBuilders")
}
