package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/internal/fabca/fabcatest"
	"github.com/mtrace/mtrace/network/member"
	"github.com/mtrace/mtrace/network/pki"
)

// run runs mtrace-org with args and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRoot(&out)
	cmd.SetArgs(args)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// homes makes an enrolled folder per node at an in-process Fabric CA
// (init --no-ca, then the enrolment init would do with the real server)
// and exports each card into mail with the command.
func homes(t *testing.T, mail string, nodes ...string) map[string]string {
	var names []string
	for _, n := range nodes {
		names = append(names, "ca-"+n, "tlsca-"+n)
	}
	srv := fabcatest.New(t, names...)
	out := map[string]string{}
	for i, n := range nodes {
		dir := t.TempDir()
		msp := strings.ToUpper(n[:1]) + n[1:] + "MSP"
		host := "10.77.0." + string(rune('1'+i))
		_, err := run(t, "--home", dir, "init", "--msp", msp, "--node", n, "--role", "maker", "--name", n,
			"--host", host, "--ca-port", itoa(srv.Port()), "--no-ca")
		require.NoError(t, err)
		h, err := member.Open(dir)
		require.NoError(t, err)
		secret, err := os.ReadFile(filepath.Join(pki.ServerDir(dir, h.CA()), "registrar.secret"))
		require.NoError(t, err)
		srv.AddUser("ca-"+n, pki.Registrar, strings.TrimSpace(string(secret)), "client")
		srv.AddUser("tlsca-"+n, pki.Registrar, strings.TrimSpace(string(secret)), "client")
		require.NoError(t, os.WriteFile(pki.TLSRoot(dir, h.CA()), srv.TLSRootPEM, 0o644))
		_, err = h.Enrol(context.Background())
		require.NoError(t, err)
		o, err := run(t, "--home", dir, "init", "--msp", msp, "--node", n, "--role", "maker", "--name", n, "--host", host, "--ca-port", itoa(srv.Port()))
		require.NoError(t, err)
		assert.Contains(t, o, "set up already")
		_, err = run(t, "--home", dir, "export", "--out", filepath.Join(mail, n+".member.json"))
		require.NoError(t, err)
		out[n] = dir
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// The file exchange, as operators run it, without a network: cards,
// genesis, an update, signatures one file per organisation, and the
// offline check naming who is missing.
func TestTheFileExchange(t *testing.T) {
	mail := t.TempDir()
	h := homes(t, mail, "istanbul", "recycler", "maker", "certifier", "kaunas")
	in := func(f string) string { return filepath.Join(mail, f) }
	founders := []string{"--member", in("istanbul.member.json"), "--member", in("recycler.member.json"),
		"--member", in("maker.member.json"), "--member", in("certifier.member.json")}

	out, err := run(t, "check", in("kaunas.member.json"))
	require.NoError(t, err)
	assert.Contains(t, out, "KaunasMSP (maker, kaunas): peer 10.77.0.5:7051, orderer 10.77.0.5:7050")

	out, err = run(t, append([]string{"channel", "genesis", "--out", in("genesis.block")}, founders...)...)
	require.NoError(t, err)
	again, err := run(t, append([]string{"channel", "genesis", "--out", in("genesis.block")}, founders...)...)
	require.NoError(t, err, "the same cards give the same block: kept")
	assert.Equal(t, out, again)

	out, err = run(t, append([]string{"channel", "inspect", in("genesis.block")}, founders...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "matches the 4 cards given")
	assert.Contains(t, out, "block validation: 3 of 4 consenters")
	out, err = run(t, "channel", "inspect", in("genesis.block"), "--member", in("kaunas.member.json"))
	assert.ErrorContains(t, err, "do not join it")
	assert.Contains(t, out, "DIFFERS: KaunasMSP: not in the channel")

	upd := in("add-kaunas.update")
	_, err = run(t, "update", "add-member", in("kaunas.member.json"), "--config", in("genesis.block"), "--out", upd)
	require.NoError(t, err)
	out, err = run(t, "update", "add-member", in("kaunas.member.json"), "--config", in("genesis.block"), "--out", upd)
	require.NoError(t, err)
	assert.Contains(t, out, "kept")
	_, err = run(t, "update", "remove-member", "MakerMSP", "--config", in("genesis.block"), "--out", upd)
	assert.ErrorContains(t, err, "holds another update")

	for _, n := range []string{"maker", "recycler"} {
		out, err = run(t, "--home", h[n], "sign", upd)
		require.NoError(t, err)
		assert.Contains(t, out, "consenter 5: KaunasMSP at 10.77.0.5:7050", "the signer sees what it signs")
	}
	out, err = run(t, "--home", h["maker"], "sign", upd)
	require.NoError(t, err)
	assert.Contains(t, out, "kept")

	_, err = run(t, "verify", upd, in("add-kaunas.MakerMSP.sig"), in("add-kaunas.RecyclerMSP.sig"), "--config", in("genesis.block"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signed by MakerMSP, RecyclerMSP; missing 1 more admin signature(s) from: CertifierMSP, IstanbulMSP")

	_, err = run(t, "--home", h["certifier"], "sign", upd)
	require.NoError(t, err)
	out, err = run(t, "verify", upd, in("add-kaunas.MakerMSP.sig"), in("add-kaunas.RecyclerMSP.sig"), in("add-kaunas.CertifierMSP.sig"), "--config", in("genesis.block"))
	require.NoError(t, err)
	assert.Contains(t, out, "signed by admins of: CertifierMSP, MakerMSP, RecyclerMSP")

	for n, dir := range h {
		out, err = run(t, "--home", dir, "keys")
		require.NoError(t, err, n)
		assert.Contains(t, out, "holds no private key but")
	}
	key, err := os.ReadFile(filepath.Join(h["maker"], "crypto", "users", "Admin@maker.mtrace.example", "msp", "keystore", "priv_sk"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(h["kaunas"], "stray.pem"), key, 0o600))
	out, err = run(t, "--home", h["kaunas"], "keys", "--member", in("maker.member.json"))
	require.Error(t, err)
	assert.Contains(t, out, "stray.pem: private key of MakerMSP")

	// A chaincode definition file; the same definition again is kept.
	pkg := filepath.Join(mail, "cc.tar.gz")
	require.NoError(t, os.WriteFile(pkg, ccPackage(t), 0o644))
	def := []string{"chaincode", "define", "--name", "mtrace", "--version", "1", "--sequence", "1", "--package", pkg, "--out", in("mtrace-1.chaincode")}
	out, err = run(t, def...)
	require.NoError(t, err)
	assert.Contains(t, out, "package mtrace:")
	out, err = run(t, def...)
	require.NoError(t, err)
	assert.Contains(t, out, "kept")
	_, err = run(t, "chaincode", "define", "--name", "mtrace", "--version", "2", "--sequence", "1", "--package", pkg, "--out", in("mtrace-1.chaincode"))
	assert.ErrorContains(t, err, "holds another definition")

	// A card that carries a key is refused by every command that reads it.
	card, err := os.ReadFile(in("kaunas.member.json"))
	require.NoError(t, err)
	bad := in("bad.member.json")
	require.NoError(t, os.WriteFile(bad, append(card, key...), 0o644))
	_, err = run(t, "check", bad)
	assert.ErrorContains(t, err, "holds a private key")
	_, err = run(t, "update", "add-member", bad, "--config", in("genesis.block"), "--out", in("x.update"))
	assert.ErrorContains(t, err, "holds a private key")
	assert.NoFileExists(t, in("x.update"))
}

// ccPackage is a chaincode package with only its metadata.
func ccPackage(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	md := []byte(`{"type":"mtrace-binary","label":"mtrace"}`)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "metadata.json", Mode: 0o644, Size: int64(len(md))}))
	_, err := tw.Write(md)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}
