package member

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mtrace/mtrace/network/pki"
)

// Init makes dir an organisation's folder: it writes the settings and the
// configuration of the organisation's Fabric CA server (its enrolment CA
// and TLS CA). Run again with the same settings it changes nothing; other
// settings are refused, since the identities already issued name them.
// Nothing is written when the settings are invalid.
func Init(dir string, s Settings) (*Home, error) {
	s.Normalize()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SettingsFile)
	if _, err := os.Stat(path); err == nil {
		h, err := Open(dir)
		if err != nil {
			return nil, err
		}
		if h.Settings != s {
			return nil, fmt.Errorf("%s: the folder already holds other settings (%s at %s): identities were issued for those; init another folder", path, h.MSPID, h.Host)
		}
	} else {
		raw, err := yaml.Marshal(s)
		if err != nil {
			return nil, err
		}
		if err := writeFile(path, raw, 0o644); err != nil {
			return nil, err
		}
	}
	h := &Home{Dir: dir, Settings: s}
	if err := pki.WriteServerConfig(dir, h.CA()); err != nil {
		return nil, err
	}
	return h, nil
}

// Enrol registers and enrols at the organisation's running CA server
// every identity whose folders are not complete yet (the peer, the
// orderer and the admin) and writes the MSP folders. It returns how many
// it enrolled: 0 when all were there.
func (h *Home) Enrol(ctx context.Context) (int, error) {
	return pki.Enrol(ctx, h.Dir, []pki.Org{h.Org()})
}

// Enrolled reports whether every identity's folders are complete.
func (h *Home) Enrolled() bool {
	for _, x := range h.Org().Holders {
		if !exists(filepath.Join(x.Dir, "msp", "signcerts", x.File+"-cert.pem")) {
			return false
		}
	}
	return exists(filepath.Join(h.MSPDir(), "config.yaml"))
}

// StartCA starts the organisation's Fabric CA server (the binary at bin)
// and waits until it listens. Its PID is kept in ca/<node>/server.pid;
// stop ends it by that PID. Its output goes to ca/<node>/server.log.
func (h *Home) StartCA(ctx context.Context, bin string) (stop func() error, err error) {
	dir := pki.ServerDir(h.Dir, h.CA())
	log, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "start", "-H", dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	pidFile := filepath.Join(dir, "server.pid")
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return os.Remove(pidFile)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(h.Ports.CA))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if exists(pki.TLSRoot(h.Dir, h.CA())) {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				_ = c.Close()
				return stop, nil
			}
		}
		select {
		case err := <-exited:
			_ = os.Remove(pidFile)
			return nil, fmt.Errorf("the CA server stopped at once (%v); see %s", err, filepath.Join(dir, "server.log"))
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), stop())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(fmt.Errorf("the CA server does not listen on %s after 30 s; see %s", addr, filepath.Join(dir, "server.log")), stop())
		}
	}
}

// writeFile writes through a temporary file, so that a reader (or a run
// that stopped half way) never sees half a file, creating the folder.
func writeFile(path string, raw []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
