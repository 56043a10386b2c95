package member

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/mtrace/mtrace/internal/configblock"
)

// ChannelInfo is the orderer's answer about one channel (the channel
// participation API's channelInfo).
type ChannelInfo struct {
	Name              string `json:"name"`
	ConsensusRelation string `json:"consensusRelation"`
	Status            string `json:"status"`
	Height            uint64 `json:"height"`
}

// adminClient is an HTTP client for the organisation's orderer's admin
// endpoint, presenting the admin's TLS client certificate and trusting
// the organisation's TLS CA.
func (h *Home) adminClient() (*http.Client, string, error) {
	tlsDir := filepath.Join(h.AdminDir(), "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key"))
	if err != nil {
		return nil, "", fmt.Errorf("the admin's TLS client certificate: %w", err)
	}
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		return nil, "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, "", fmt.Errorf("%s holds no certificate", filepath.Join(tlsDir, "ca.crt"))
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: h.OrdererHost(), MinVersion: tls.VersionTLS12}}}
	return c, "https://127.0.0.1:" + strconv.Itoa(h.Ports.OrdererAdmin) + "/participation/v1/channels", nil
}

// adminStartup is how long OrdererChannel waits for an orderer's admin
// endpoint that refuses connections.
var adminStartup = 20 * time.Second

// OrdererChannel asks the organisation's orderer about a channel; ok is
// false when the orderer has not joined it.
func (h *Home) OrdererChannel(ctx context.Context, name string) (info ChannelInfo, ok bool, err error) {
	c, url, err := h.adminClient()
	if err != nil {
		return info, false, err
	}
	// An orderer that has just started answers /healthz before its admin
	// endpoint listens (Fabric's orderer starts its operations server
	// first, then opens its ledgers): a refused connection is tried again
	// for up to adminStartup.
	var resp *http.Response
	for deadline := time.Now().Add(adminStartup); ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/"+name, nil)
		if err != nil {
			return info, false, err
		}
		resp, err = c.Do(req)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return info, false, fmt.Errorf("the orderer's admin endpoint: %w", err)
		}
		select {
		case <-ctx.Done():
			return info, false, fmt.Errorf("the orderer's admin endpoint: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		return info, true, json.Unmarshal(body, &info)
	case http.StatusNotFound:
		return info, false, nil
	}
	return info, false, fmt.Errorf("the orderer's admin endpoint answered %s: %s", resp.Status, bytes.TrimSpace(body))
}

// JoinOrderer joins the organisation's orderer to the channel of the
// config block (the genesis block, or the latest config block for a
// member that joins later) through its channel participation API. An
// orderer that already has the channel is left as it is.
func (h *Home) JoinOrderer(ctx context.Context, block *cb.Block, raw []byte) (ChannelInfo, bool, error) {
	cfgChannel, err := blockChannel(block)
	if err != nil {
		return ChannelInfo{}, false, err
	}
	if info, ok, err := h.OrdererChannel(ctx, cfgChannel); err != nil || ok {
		return info, false, err
	}
	c, url, err := h.adminClient()
	if err != nil {
		return ChannelInfo{}, false, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("config-block", cfgChannel+".block")
	if err != nil {
		return ChannelInfo{}, false, err
	}
	if _, err := part.Write(raw); err != nil {
		return ChannelInfo{}, false, err
	}
	if err := w.Close(); err != nil {
		return ChannelInfo{}, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return ChannelInfo{}, false, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		return ChannelInfo{}, false, fmt.Errorf("the orderer's admin endpoint: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return ChannelInfo{}, false, fmt.Errorf("the orderer refused to join %s (%s): %s", cfgChannel, resp.Status, bytes.TrimSpace(out))
	}
	var info ChannelInfo
	return info, true, json.Unmarshal(out, &info)
}

// blockChannel is the channel a config block belongs to.
func blockChannel(b *cb.Block) (string, error) {
	if _, err := configblock.Config(b); err != nil {
		return "", err
	}
	ch, err := channelHeader(b.Data.Data[0])
	if err != nil {
		return "", err
	}
	return ch.ChannelId, nil
}

// JoinPeer joins the organisation's peer to the channel with the block,
// through the peer binary at bin (peer channel join) as the admin; a
// peer that already has the channel is left as it is.
func (h *Home) JoinPeer(ctx context.Context, bin, blockFile string) (joined bool, err error) {
	b, err := ReadBlock(blockFile)
	if err != nil {
		return false, err
	}
	name, err := blockChannel(b)
	if err != nil {
		return false, err
	}
	list, err := h.peerCmd(ctx, bin, "channel", "list")
	if err != nil {
		return false, err
	}
	for _, l := range bytes.Split(list, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == name {
			return false, nil
		}
	}
	_, err = h.peerCmd(ctx, bin, "channel", "join", "-b", blockFile)
	return err == nil, err
}

// PeerHeight is the height of the channel's ledger on the organisation's
// peer (peer channel getinfo, as the admin).
func (h *Home) PeerHeight(ctx context.Context, bin, channel string) (uint64, error) {
	out, err := h.peerCmd(ctx, bin, "channel", "getinfo", "-c", channel)
	if err != nil {
		return 0, err
	}
	return parseChainInfo(out)
}

// parseChainInfo reads the height from what peer channel getinfo
// prints: "Blockchain info: {"height":25,...}".
func parseChainInfo(out []byte) (uint64, error) {
	_, js, ok := bytes.Cut(out, []byte("Blockchain info:"))
	var info struct {
		Height *uint64 `json:"height"`
	}
	if !ok || json.Unmarshal(bytes.TrimSpace(js), &info) != nil || info.Height == nil {
		return 0, fmt.Errorf("peer channel getinfo: no height in %q", bytes.TrimSpace(out))
	}
	return *info.Height, nil
}

// peerCmd runs the peer CLI against the organisation's peer as its admin.
func (h *Home) peerCmd(ctx context.Context, bin string, args ...string) ([]byte, error) {
	tlsDir := filepath.Join(h.AdminDir(), "tls")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"FABRIC_LOGGING_SPEC=warning",
		"CORE_PEER_LOCALMSPID="+h.MSPID,
		"CORE_PEER_MSPCONFIGPATH="+filepath.Join(h.AdminDir(), "msp"),
		// The peer's own address (in its TLS certificate); no host name
		// override, which would apply to the other members' peers too.
		"CORE_PEER_ADDRESS="+net.JoinHostPort(h.Host, strconv.Itoa(h.Ports.Peer)),
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_ROOTCERT_FILE="+filepath.Join(tlsDir, "ca.crt"),
		"CORE_PEER_TLS_CLIENTAUTHREQUIRED=true",
		"CORE_PEER_TLS_CLIENTCERT_FILE="+filepath.Join(tlsDir, "client.crt"),
		"CORE_PEER_TLS_CLIENTKEY_FILE="+filepath.Join(tlsDir, "client.key"),
	)
	if os.Getenv("FABRIC_CFG_PATH") == "" && exists(filepath.Join(h.ConfigDir(NodePeer), "core.yaml")) {
		cmd.Env = append(cmd.Env, "FABRIC_CFG_PATH="+h.ConfigDir(NodePeer))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		both := append(stdout.Bytes(), stderr.Bytes()...)
		return both, fmt.Errorf("peer %v: %w: %s", args, err, bytes.TrimSpace(both))
	}
	return stdout.Bytes(), nil
}
