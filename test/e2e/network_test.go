//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

var peers = testnet.Peers

// agreedHeight waits until all four peers report the same block height, at
// least min, and returns it.
func agreedHeight(t *testing.T, min uint64) uint64 {
	t.Helper()
	h, err := env.Agreed(30*time.Second, min)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPeersAgreeAfterTransaction commits one transaction and sees every
// organisation's peer reach the same height.
func TestPeersAgreeAfterTransaction(t *testing.T) {
	before := agreedHeight(t, 0)
	register(t, id("agree"), "50kg")
	after := agreedHeight(t, before+1)
	t.Logf("all 4 peers at height %d (was %d)", after, before)
}

// TestOrdererRestartCatchesUp stops one member's orderer (one of the four
// SmartBFT consenters), commits a transaction on the three that remain,
// starts it again, and waits until its copy of the chain reaches the
// peers' height.
func TestOrdererRestartCatchesUp(t *testing.T) {
	const node = "recycler-orderer"
	pid, err := env.PID(node)
	if err != nil {
		t.Fatalf("pid of %s: %v", node, err)
	}
	if out, err := env.Network("stop", node); err != nil {
		t.Fatalf("stop %s: %v\n%s", node, err, out)
	}
	if testnet.Alive(pid) {
		t.Fatalf("%s (pid %d) still runs after stop", node, pid)
	}
	t.Cleanup(func() {
		if out, err := env.Network("up"); err != nil {
			t.Errorf("restart after the test: %v\n%s", err, out)
		}
	})

	// Three of four consenters are a BFT quorum: transactions still commit.
	// If the stopped orderer led, the others change the view first.
	b := id("orderer-down")
	if err := testnet.Eventually(30*time.Second, time.Second, func() error {
		r := env.Run(t, "municipality", "batch", "register", b, "--material", "HDPE", "--mass", "75kg",
			"--location", "Sarıyer, Istanbul", "--collected-at", "2026-11-21T08:00:00+03:00", "--waste-code", "20 01 39")
		if r.Code != 0 {
			return fmt.Errorf("%s", r.Stderr)
		}
		return nil
	}); err != nil {
		t.Fatalf("no commit with %s down: %v", node, err)
	}
	want := agreedHeight(t, 0)

	start := time.Now()
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("restart %s: %v\n%s", node, err, out)
	}
	if newPID, err := env.PID(node); err != nil || newPID == pid || !testnet.Alive(newPID) {
		t.Fatalf("%s did not come back with a new process (old pid %d, new %d, %v)", node, pid, newPID, err)
	}
	var got float64
	if err := testnet.Eventually(60*time.Second, 250*time.Millisecond, func() error {
		got, err = testnet.Metric(node, "ledger_blockchain_height", env.Channel())
		if err != nil {
			return err
		}
		if uint64(got) < want {
			return fmt.Errorf("%s at height %v, peers at %d", node, got, want)
		}
		return nil
	}); err != nil {
		t.Fatalf("%s did not catch up: %v", node, err)
	}
	t.Logf("%s restarted and caught up to height %d in %s", node, uint64(got), time.Since(start).Round(time.Millisecond))
	if b := getBatch(t, "auditor", b); b.InitialMass != 75_000 {
		t.Errorf("batch written while %s was down reads %+v", node, b)
	}
}

// TestNetworkRestartKeepsLedger stops the whole network, checks that no
// process it recorded is left (the CA servers included), starts it again
// and finds the ledger as it was: the same height, and a batch written
// before the stop; and the CAs as they were: the same registered
// identities and the same certificates in the MSP folders.
func TestNetworkRestartKeepsLedger(t *testing.T) {
	b := id("before-restart")
	register(t, b, "125kg")
	before := agreedHeight(t, 0)

	nodes := append(append([]string{}, testnet.Orderers...), testnet.Peers...)
	orgs := networkOrgs(t)
	for _, o := range orgs {
		nodes = append(nodes, o.CA.Process)
	}
	mun := orgs[0]
	registered := caRegistry(t, mun)
	if !slices.Contains(registered, "ayse") || !slices.Contains(registered, "User1@municipality.mtrace.local") {
		t.Fatalf("the municipality's CA lists %v, without ayse or User1", registered)
	}
	i := 0
	for i < len(mun.Holders) && mun.Holders[i].ID != "ayse" {
		i++
	}
	if i == len(mun.Holders) {
		t.Fatalf("the municipality has no holder ayse: %+v", mun.Holders)
	}
	ayse := filepath.Join(mun.Holders[i].Dir, "msp", "signcerts", mun.Holders[i].File+"-cert.pem")
	ayseCert := readCert(t, ayse)
	var pids []int
	for _, n := range nodes {
		pid, err := env.PID(n)
		if err != nil {
			t.Fatalf("pid of %s: %v", n, err)
		}
		pids = append(pids, pid)
	}
	for _, p := range peers {
		if pid, err := env.PID("cc-" + p); err == nil {
			pids = append(pids, pid)
		}
	}

	if out, err := env.Network("down"); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	for _, pid := range pids {
		if testnet.Alive(pid) {
			t.Errorf("pid %d still runs after down", pid)
		}
	}

	start := time.Now()
	if out, err := env.Network("up"); err != nil {
		t.Fatalf("up after down: %v\n%s", err, out)
	}
	t.Logf("restarted a stopped network in %s", time.Since(start).Round(time.Millisecond))
	if after := agreedHeight(t, before); after < before {
		t.Fatalf("height went from %d to %d across the restart", before, after)
	}
	if got := getBatch(t, "auditor", b); got.InitialMass != 125_000 {
		t.Errorf("batch written before the restart reads %+v", got)
	}
	if got := caRegistry(t, mun); !slices.Equal(got, registered) {
		t.Errorf("the municipality's CA lists %v after the restart, %v before", got, registered)
	}
	if !readCert(t, ayse).Equal(ayseCert) {
		t.Errorf("ayse's certificate changed across the restart")
	}
	register(t, id("after-restart"), "5kg") // and it takes new transactions
}
