//go:build tools

// Package tools records the Fabric commands this module builds, so that
// go mod tidy keeps their dependencies. Fabric CA is built from its own
// module, ca/.
package tools

import (
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
