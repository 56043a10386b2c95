// Command mtrace-cc runs the mtrace chaincode. Under the network's
// external builder it is started as
//
//	mtrace-cc -peer-config RUN_METADATA_DIR/chaincode.json
//
// and connects to the peer that launched it (see package launch).
package main

import (
	"github.com/mtrace/mtrace/chaincode/contract"
	"github.com/mtrace/mtrace/chaincode/launch"
)

func main() { launch.Main(contract.NewChaincode) }
