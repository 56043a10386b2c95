// Package launch runs a chaincode process the way the network's external
// builder starts it, so that every chaincode binary (mtrace-cc, and the
// dishonest variants the trust tests build) starts the same way.
//
// Under the external builder the binary is started with
//
//	mtrace-cc -peer-config RUN_METADATA_DIR/chaincode.json
//
// and connects to the peer that launched it, using the address and TLS
// material the peer wrote into chaincode.json. Without -peer-config it
// leaves the configuration to the environment: contract-api serves the
// chaincode as a gRPC service when CHAINCODE_SERVER_ADDRESS is set, and
// otherwise dials the peer named by -peer.address.
package launch

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// peerConfig is the chaincode.json a peer hands to an external builder's
// run script.
type peerConfig struct {
	ChaincodeID string `json:"chaincode_id"`
	PeerAddress string `json:"peer_address"`
	ClientCert  string `json:"client_cert"`
	ClientKey   string `json:"client_key"`
	RootCert    string `json:"root_cert"`
	MSPID       string `json:"mspid"`
}

// Main parses the command line, configures the connection to the peer,
// builds the chaincode with build and runs it until the connection ends.
func Main(build func() (*contractapi.ContractChaincode, error)) {
	log.SetFlags(log.LstdFlags | log.Lmsgprefix)
	log.SetPrefix("mtrace-cc: ")
	// The shim registers -peer.address on the default flag set and parses it
	// again in Start, so our flags live there too.
	if err := start(flag.CommandLine, os.Args[1:], build); err != nil {
		log.Fatal(err)
	}
}

// start is Main on the flag set fs and the arguments args: it returns
// when the chaincode stops, having removed the TLS folder it wrote.
func start(fs *flag.FlagSet, args []string, build func() (*contractapi.ContractChaincode, error)) error {
	peerCfg := fs.String("peer-config", "", "chaincode.json written by the peer for the external builder")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address, e.g. 127.0.0.1:6060")
	if err := fs.Parse(args); err != nil {
		return err
	}

	if *pprofAddr != "" {
		go func() {
			log.Printf("pprof: %v", http.ListenAndServe(*pprofAddr, nil))
		}()
	}

	if *peerCfg != "" {
		dir, err := configure(*peerCfg)
		if err != nil {
			return err
		}
		defer removeOnSignal(dir)()
		defer os.RemoveAll(dir)
	}
	return run(build)
}

// run starts the chaincode and returns when its connection ends.
func run(build func() (*contractapi.ContractChaincode, error)) error {
	cc, err := build()
	if err != nil {
		return fmt.Errorf("create chaincode: %w", err)
	}
	if err := cc.Start(); err != nil {
		return fmt.Errorf("chaincode stopped: %w", err)
	}
	return nil
}

// configure reads the peer's chaincode.json, writes its TLS material to a
// private temporary folder and sets the environment and flags the shim
// reads. It returns the folder, which the caller removes on exit. The folder
// sits inside the peer's own run folder, which the peer deletes when the
// chaincode stops, so even a killed process leaves no key behind.
func configure(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read peer config: %w", err)
	}
	var pc peerConfig
	if err := json.Unmarshal(raw, &pc); err != nil {
		return "", fmt.Errorf("parse peer config %s: %w", path, err)
	}
	if pc.ChaincodeID == "" || pc.PeerAddress == "" {
		return "", errors.New("peer config: chaincode_id and peer_address are required")
	}

	env := map[string]string{
		"CORE_CHAINCODE_ID_NAME": pc.ChaincodeID,
		"CORE_PEER_ADDRESS":      pc.PeerAddress,
		"CORE_PEER_LOCALMSPID":   pc.MSPID,
		"CORE_PEER_TLS_ENABLED":  "false",
	}
	dir := ""
	if pc.ClientCert != "" {
		dir, err = os.MkdirTemp(filepath.Dir(path), "tls-")
		if err != nil {
			return "", fmt.Errorf("create TLS folder: %w", err)
		}
		files := map[string]string{
			"CORE_TLS_CLIENT_CERT_FILE":   pc.ClientCert,
			"CORE_TLS_CLIENT_KEY_FILE":    pc.ClientKey,
			"CORE_PEER_TLS_ROOTCERT_FILE": pc.RootCert,
		}
		for name, pem := range files {
			f := filepath.Join(dir, name+".pem")
			if err := os.WriteFile(f, []byte(pem), 0o600); err != nil {
				os.RemoveAll(dir)
				return "", fmt.Errorf("write %s: %w", f, err)
			}
			env[name] = f
		}
		env["CORE_PEER_TLS_ENABLED"] = "true"
	}
	// Under a peer the chaincode is a client, never a service.
	os.Unsetenv("CHAINCODE_SERVER_ADDRESS")
	for k, v := range env {
		os.Setenv(k, v)
	}
	if err := flag.Set("peer.address", pc.PeerAddress); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("set peer address: %w", err)
	}
	return dir, nil
}

// removeOnSignal deletes the TLS folder when the process is asked to stop,
// then exits. The function it returns stops watching.
func removeOnSignal(dir string) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			os.RemoveAll(dir)
			os.Exit(0)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
