//go:build e2e

package passport

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/mtrace/mtrace/test/internal/testnet"
)

// browser is a headless Chromium that the test starts and stops by its
// PID, with a throwaway profile and no background networking, driven
// over the DevTools protocol on a port of the network's range. Chromium's
// own --dump-dom and --screenshot return before the page's asynchronous
// WebAssembly check has run, so the test waits for the page's answer
// itself.
type browser struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	id   int
	port int
}

// devtoolsOffset is the DevTools port's offset from the network's base
// port: free in the network's layout (network/README.md; test/proof's
// proxy uses +95).
const devtoolsOffset = 96

func startBrowser(t *testing.T) *browser {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (scripts/deps.sh installs it): %v", err)
	}
	b := &browser{port: testnet.BasePort() + devtoolsOffset}
	b.cmd = exec.Command(exe,
		"--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+t.TempDir(),
		"--remote-debugging-address=127.0.0.1", fmt.Sprintf("--remote-debugging-port=%d", b.port),
		"--remote-allow-origins=http://127.0.0.1",
		// Nothing from outside: no updates, sync, safe-browsing lists,
		// metrics or field trials.
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
		"--disable-client-side-phishing-detection", "--disable-field-trial-config",
		"--no-first-run", "--no-default-browser-check", "--no-pings", "--metrics-recording-only",
		"--hide-scrollbars", "--mute-audio", "--window-size=1000,900",
		"about:blank")
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.Stdout, b.cmd.Stderr = nil, nil
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(b.stop)
	// The page target's DevTools socket.
	var target string
	err = testnet.Eventually(60*time.Second, 250*time.Millisecond, func() error {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/json/list", b.port))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var list []struct{ Type, WebSocketDebuggerURL string }
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return err
		}
		for _, l := range list {
			if l.Type == "page" && l.WebSocketDebuggerURL != "" {
				target = l.WebSocketDebuggerURL
				return nil
			}
		}
		return errors.New("no page target yet")
	})
	if err != nil {
		t.Fatalf("chromium's DevTools endpoint (pid %d): %v", b.cmd.Process.Pid, err)
	}
	if b.ws, err = websocket.Dial(target, "", "http://127.0.0.1"); err != nil {
		t.Fatalf("DevTools socket: %v", err)
	}
	b.ws.MaxPayloadBytes = 64 << 20 // full-page screenshots
	return b
}

// stop ends Chromium by its PID (and the renderer processes of its
// process group), and waits for it.
func (b *browser) stop() {
	if b.ws != nil {
		b.ws.Close()
	}
	pid := b.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	// Renderer and utility processes of the group that outlive the
	// browser process go too (ESRCH when none is left). Chromium's crash
	// handler (chrome_crashpad_handler) runs in a session of its own and
	// exits when the browser process does.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// call sends one DevTools command and decodes its result.
func (b *browser) call(method string, params, result any) error {
	b.id++
	msg, err := json.Marshal(map[string]any{"id": b.id, "method": method, "params": params})
	if err != nil {
		return err
	}
	// A browser that stops answering fails the test instead of hanging it.
	if err := b.ws.SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		return err
	}
	if err := websocket.Message.Send(b.ws, string(msg)); err != nil {
		return err
	}
	for {
		var raw string
		if err := websocket.Message.Receive(b.ws, &raw); err != nil {
			return err
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(raw), &resp); err != nil {
			return err
		}
		if resp.ID != b.id {
			continue // an event
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(resp.Result, result)
	}
}

// eval evaluates a JavaScript expression in the page and returns its
// value as a string.
func (b *browser) eval(expr string) (string, error) {
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return "", err
	}
	if r.ExceptionDetails != nil {
		return "", fmt.Errorf("%s: %s", expr, r.ExceptionDetails.Text)
	}
	if r.Result.Value == nil {
		return "", nil
	}
	return fmt.Sprint(r.Result.Value), nil
}

// page is what the reader sees once the page has checked its proof.
type page struct {
	Proof, Verdict               string // the root element's data-proof and data-verdict
	AnswerProof, AnswerVerdict   string
	AsOf, Checks, Facts, Warning string
}

// open loads a page from disk, waits until its root element carries the
// check's answer, reads what it shows and writes a full-page screenshot.
func (b *browser) open(t *testing.T, file, shot string) page {
	t.Helper()
	if err := b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1000, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.call("Page.navigate", map[string]any{"url": "file://" + file}, nil); err != nil {
		t.Fatal(err)
	}
	var p page
	// The verifier (some MB of WebAssembly) compiles and checks the proof
	// in the page; on a loaded machine that takes a while.
	err := testnet.Eventually(3*time.Minute, 500*time.Millisecond, func() error {
		v, err := b.eval(`document.documentElement.getAttribute("data-proof") || ""`)
		if err != nil {
			return err
		}
		if v == "" {
			return errors.New("the page has not answered yet")
		}
		p.Proof = v
		return nil
	})
	if err != nil {
		text, _ := b.eval(`document.body ? document.body.innerText.slice(0, 2000) : ""`)
		t.Fatalf("%s: no answer from the page: %v\n%s", file, err, text)
	}
	for _, f := range []struct {
		dst  *string
		expr string
	}{
		{&p.Verdict, `document.documentElement.getAttribute("data-verdict") || ""`},
		{&p.AnswerProof, `document.getElementById("answer-proof").innerText`},
		{&p.AnswerVerdict, `document.getElementById("answer-verdict").innerText`},
		{&p.AsOf, `document.getElementById("asof").innerText`},
		{&p.Checks, `document.getElementById("checks").innerText`},
		{&p.Facts, `document.getElementById("facts").innerText`},
		{&p.Warning, `document.getElementById("warning").hidden ? "" : document.getElementById("warning").innerText`},
	} {
		v, err := b.eval(f.expr)
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = v
	}
	var m struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	if err := b.call("Page.getLayoutMetrics", map[string]any{}, &m); err != nil {
		t.Fatal(err)
	}
	var shotRes struct {
		Data string `json:"data"`
	}
	err = b.call("Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1000, "height": m.CSSContentSize.Height, "scale": 1},
	}, &shotRes)
	if err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shotRes.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	return p
}
