// Package fabca is a small client of the Fabric CA v1.5 REST API: enrol an
// identity from a certificate signing request, and, as a registrar,
// register, revoke and list identities, list certificates and generate the
// CRL. It speaks HTTP and JSON to the server directly (no fabric-ca
// library, no fabric-ca-client process).
//
// Every call but Enroll and Info is authorised by a token that the
// registrar signs with its enrolment key: the base64 of its certificate,
// a dot, and the base64 of an ECDSA signature over the request's method,
// URI, body and certificate (see token.go). Enroll uses the identity's
// one-time secret as HTTP basic authentication.
package fabca

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one CA of a Fabric CA server. A server can host several
// CAs (for example an enrolment CA and a TLS CA); CAName picks one, and the
// empty name is the server's default CA.
type Client struct {
	URL    string // https://127.0.0.1:PORT
	CAName string
	HTTP   *http.Client
}

// New returns a client of the CA caName at url, trusting tlsRootPEM (the
// certificates that sign the server's TLS certificate). An empty
// tlsRootPEM trusts the system's roots.
func New(url, caName string, tlsRootPEM []byte) (*Client, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("fabric ca url %q: must start with https://", url)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(tlsRootPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(tlsRootPEM) {
			return nil, errors.New("fabric ca TLS root: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	return &Client{
		URL:    strings.TrimRight(url, "/"),
		CAName: caName,
		HTTP: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{TLSClientConfig: cfg},
		},
	}, nil
}

// Error is a refusal from the CA: the HTTP status and the first entry of
// the response's errors array (Fabric CA's own error code and message).
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("fabric ca: %s (code %d, HTTP %d)", e.Message, e.Code, e.Status)
}

// response is the envelope around every answer of the server.
type response struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// call sends one request to /api/v1/<endpoint> and decodes the result into
// out (unless out is nil). auth sets the request's authorisation.
func (c *Client) call(ctx context.Context, method, endpoint string, query url.Values, body any, auth func(*http.Request, []byte) error, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("fabric ca %s: %w", endpoint, err)
		}
	}
	u := c.URL + "/api/v1/" + endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("fabric ca %s: %w", endpoint, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != nil {
		if err := auth(req, raw); err != nil {
			return fmt.Errorf("fabric ca %s: %w", endpoint, err)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("fabric ca %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("fabric ca %s: reading the response: %w", endpoint, err)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		if resp.StatusCode >= 300 {
			return &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(data))}
		}
		return fmt.Errorf("fabric ca %s: the response is not JSON: %w", endpoint, err)
	}
	if len(r.Errors) > 0 {
		return &Error{Status: resp.StatusCode, Code: r.Errors[0].Code, Message: r.Errors[0].Message}
	}
	if !r.Success || resp.StatusCode >= 300 {
		return &Error{Status: resp.StatusCode, Message: "request failed without a reason"}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("fabric ca %s: decoding the result: %w", endpoint, err)
	}
	return nil
}

// CAInfo describes the CA: its name, its certificate chain (PEM, the root
// last) and the server's version.
type CAInfo struct {
	CAName  string
	CAChain []byte
	Version string
}

// Info asks the CA for its name and certificate chain; it needs no
// identity.
func (c *Client) Info(ctx context.Context) (*CAInfo, error) {
	var res struct {
		CAName  string
		CAChain string
		Version string
	}
	if err := c.call(ctx, http.MethodPost, "cainfo", nil, struct {
		CAName string `json:"caname,omitempty"`
	}{c.CAName}, nil, &res); err != nil {
		return nil, err
	}
	chain, err := b64(res.CAChain, "CA chain")
	if err != nil {
		return nil, err
	}
	return &CAInfo{CAName: res.CAName, CAChain: chain, Version: res.Version}, nil
}
