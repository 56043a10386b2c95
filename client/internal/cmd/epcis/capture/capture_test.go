package capture

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
	"github.com/mtrace/mtrace/client/internal/config"
	"github.com/mtrace/mtrace/client/internal/ledger"
	"github.com/mtrace/mtrace/client/internal/ledger/ledgertest"
)

const doc = `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"mt":"urn:mtrace:vocab:"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-25T16:00:00+03:00",
"epcisBody":{"eventList":[
{"type":"ObjectEvent","eventID":"urn:uuid:c1","eventTime":"2026-11-25T08:10:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"ADD","bizStep":"collecting","bizLocation":{"id":"urn:mtrace:id:place/depot"},
 "quantityList":[{"epcClass":"urn:mtrace:id:batch/C-1","quantity":640.5,"uom":"KGM"}],
 "ilmd":{"mt:material":"PET","mt:wasteCode":"15 01 02"}},
{"type":"ObjectEvent","eventID":"urn:uuid:s1","eventTime":"2026-11-25T11:00:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"OBSERVE","bizStep":"shipping","quantityList":[{"epcClass":"urn:mtrace:id:batch/C-1"}],
 "sourceList":[{"type":"owning_party","source":"urn:mtrace:id:org/MunicipalityMSP"}],
 "destinationList":[{"type":"owning_party","destination":"urn:mtrace:id:org/RecyclerMSP"}]},
{"type":"ObjectEvent","eventID":"urn:uuid:r1","eventTime":"2026-11-25T13:00:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"OBSERVE","bizStep":"receiving","quantityList":[{"epcClass":"urn:mtrace:id:batch/C-1","quantity":0.0005,"uom":"KGM"}],
 "destinationList":[{"type":"owning_party","destination":"urn:mtrace:id:org/RecyclerMSP"}]},
{"type":"ObjectEvent","eventID":"urn:uuid:r2","eventTime":"2026-11-25T13:00:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"OBSERVE","bizStep":"receiving","quantityList":[{"epcClass":"urn:mtrace:id:batch/C-1","quantity":640,"uom":"KGM"}],
 "destinationList":[{"type":"owning_party","destination":"urn:mtrace:id:org/MakerMSP"}]}
]}}`

// env is a config with a municipality and a recycler profile, and a fake
// ledger that remembers captured event IDs.
type env struct {
	*cmdtest.Env
	captured map[string]model.Captured // eventID -> record
	profiles []string                  // profile of each Capture submit
	reqs     []model.CaptureRequest
	// capture is the fake's Capture: it records the event.
	capture ledgertest.Responder
}

func newEnv(t *testing.T) *env {
	e := &env{Env: cmdtest.New(t), captured: map[string]model.Captured{}}
	dir := filepath.Dir(e.Config)
	body := "defaultProfile: municipality\nprofiles:\n"
	for p, msp := range map[string]string{"municipality": "MunicipalityMSP", "recycler": "RecyclerMSP"} {
		body += "  " + p + ":\n    endpoint: 127.0.0.1:27100\n    tlsRootCert: tls.pem\n    mspId: " + msp + "\n    cert: cert.pem\n    key: key.pem\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(body), 0o600))
	connect := e.F.Connect
	e.F.Connect = func(p *config.Profile, o ledger.Options) (ledger.Ledger, error) {
		e.profiles = append(e.profiles, p.Name)
		return connect(p, o)
	}
	e.Fake.On(api.GetCapture, func(args []string) ([]byte, error) {
		if rec, ok := e.captured[args[0]]; ok {
			return json.Marshal(rec)
		}
		return nil, errors.New("rejected by chaincode: event " + args[0] + " not captured")
	})
	e.capture = func(args []string) ([]byte, error) {
		var r model.CaptureRequest
		require.NoError(t, json.Unmarshal([]byte(args[0]), &r))
		e.reqs = append(e.reqs, r)
		e.captured[r.EventID] = model.Captured{EventID: r.EventID, Tx: "tx-" + r.EventID[9:], By: model.Actor{MSP: "MunicipalityMSP"}, Digest: r.Digest()}
		return nil, nil
	}
	e.Fake.On(api.Capture, e.capture)
	return e
}

func (e *env) file(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "doc.jsonld")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestCapture(t *testing.T) {
	e := newEnv(t)
	f := e.file(t, doc)
	err := e.Run(NewCmdCapture(e.F, nil), "capture", f)
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	out := strings.ReplaceAll(e.Out.String(), f, "doc.jsonld")
	assert.Equal(t, `doc.jsonld: document 1, event 0 (urn:uuid:c1): captured: register as municipality, tx tx-c1
doc.jsonld: document 1, event 1 (urn:uuid:s1): captured: offer as municipality, tx tx-s1
doc.jsonld: document 1, event 2 (urn:uuid:r1): refused: quantityList[0]: malformed mass: "0.0005kg" is not a whole number of grams
doc.jsonld: document 1, event 3 (urn:uuid:r2): refused: the event was made by MakerMSP, and `+e.Config+` has no profile of that organisation
Captured 2, skipped 0, refused 2
`, out)
	require.Len(t, e.reqs, 2)
	assert.Equal(t, model.CaptureRequest{EventID: "urn:uuid:s1", Kind: model.CaptureOffer, Batch: "C-1", To: "RecyclerMSP"}, e.reqs[1])
	assert.Equal(t, []string{"municipality"}, e.profiles, "one connection per profile")

	// A rerun skips what was captured; only the refused events are tried.
	e2 := newEnv(t)
	e2.captured = e.captured
	err = e2.Run(NewCmdCapture(e2.F, nil), "capture", f, "-o", "json")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	var r Report
	require.NoError(t, json.Unmarshal(e2.Out.Bytes(), &r))
	assert.Equal(t, 0, r.Captured)
	assert.Equal(t, 2, r.Skipped)
	assert.Equal(t, 2, r.Refused)
	assert.Equal(t, Outcome{File: f, Document: 1, Index: 1, EventID: "urn:uuid:s1", Result: Skipped, Kind: "offer", Profile: "municipality", Tx: "tx-s1", Reason: "already captured"}, r.Events[1])
	assert.Empty(t, e2.reqs)
}

// TestCaptureClash: the organisation's record of an event ID is skipped
// only when it holds the same event; a record without a digest (contract
// 0.4.0) is a rerun; a different event under the ID is refused, naming
// its transaction.
func TestCaptureClash(t *testing.T) {
	e := newEnv(t)
	f := e.file(t, doc)
	e.captured["urn:uuid:c1"] = model.Captured{EventID: "urn:uuid:c1", Tx: "tx-other", By: model.Actor{MSP: "MunicipalityMSP"}, Digest: strings.Repeat("ab", 32)}
	e.captured["urn:uuid:s1"] = model.Captured{EventID: "urn:uuid:s1", Tx: "tx-old", By: model.Actor{MSP: "MunicipalityMSP"}}
	err := e.Run(NewCmdCapture(e.F, nil), "capture", f, "-o", "json")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	var r Report
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	assert.Equal(t, Refused, r.Events[0].Result)
	assert.Equal(t, "tx-other", r.Events[0].Tx)
	assert.Contains(t, r.Events[0].Reason, "event ID urn:uuid:c1 was already captured by MunicipalityMSP in tx tx-other with different content (digest abababababab")
	assert.Equal(t, Skipped, r.Events[1].Result)
	assert.Equal(t, "tx-old", r.Events[1].Tx)
	assert.Contains(t, r.Events[1].Reason, "recorded before contract 0.5.0")
	assert.Empty(t, e.reqs, "nothing is submitted for an event ID already recorded")

	// A capture that loses a race to another of its own organisation's
	// transactions is judged by the record it lost to.
	e = newEnv(t)
	e.Fake.On(api.Capture, func(args []string) ([]byte, error) {
		var req model.CaptureRequest
		require.NoError(t, json.Unmarshal([]byte(args[0]), &req))
		e.captured[req.EventID] = model.Captured{EventID: req.EventID, Tx: "tx-race", By: model.Actor{MSP: "MunicipalityMSP"}, Digest: "ff"}
		return nil, errors.New("rejected by chaincode: event " + req.EventID + " was already captured by MunicipalityMSP in transaction tx-race")
	})
	err = e.Run(NewCmdCapture(e.F, nil), "capture", f)
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.Contains(t, e.Out.String(), "event 0 (urn:uuid:c1): refused: event ID urn:uuid:c1 was already captured by MunicipalityMSP in tx tx-race with different content")
}

func TestCaptureActsAsTheActor(t *testing.T) {
	e := newEnv(t)
	recv := strings.Replace(doc, `"quantity":0.0005,`, `"quantity":640,`, 1)
	require.NoError(t, e.Run(NewCmdCapture(e.F, nil), "capture", e.file(t, strings.Replace(recv, "MakerMSP", "RecyclerMSP", 1))))
	assert.ElementsMatch(t, []string{"municipality", "recycler"}, e.profiles)
	assert.Contains(t, e.Out.String(), "event 2 (urn:uuid:r1): captured: accept as recycler")
	assert.Equal(t, model.Grams(640_000), e.reqs[2].Mass)
	assert.Contains(t, e.Out.String(), "event 3 (urn:uuid:r2): captured: accept as recycler")
}

func TestCaptureRefusedByLedger(t *testing.T) {
	e := newEnv(t)
	e.Fake.OnError(api.Capture, errors.New(`rejected by chaincode: batch "C-1" already exists`))
	err := e.Run(NewCmdCapture(e.F, nil), "capture", e.file(t, doc), "-o", "json")
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	var r Report
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r))
	assert.Equal(t, 4, r.Refused)
	assert.Equal(t, `rejected by chaincode: batch "C-1" already exists`, r.Events[0].Reason)
}

func TestCaptureMalformedDocument(t *testing.T) {
	e := newEnv(t)
	bad := strings.Replace(doc, `"bizLocation":{"id":"urn:mtrace:id:place/depot"}`, `"bizLocation":"depot"`, 1)
	f := e.file(t, bad+"\n"+doc+"\n{")
	err := e.Run(NewCmdCapture(e.F, nil), "capture", f)
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	lines := strings.Split(strings.TrimSpace(e.Out.String()), "\n")
	assert.Equal(t, f+": document 1: refused: not captured: not valid against GS1's EPCIS 2.0 schema: at /epcisBody/eventList/0/bizLocation: got string, want object", lines[0])
	assert.Contains(t, lines[1], "document 2, event 0 (urn:uuid:c1): captured")
	assert.Equal(t, f+": refused: document 3: not JSON: unexpected EOF", lines[len(lines)-2])
	assert.Equal(t, "Captured 2, skipped 0, refused 4", lines[len(lines)-1])
}

func TestCaptureErrors(t *testing.T) {
	e := newEnv(t)
	assert.ErrorContains(t, e.Run(NewCmdCapture(e.F, nil), "capture"), "expected at least one FILE")
	assert.ErrorContains(t, e.Run(NewCmdCapture(e.F, nil), "capture", "x", "--base", "nope"), "--base: identifier base")
	assert.ErrorContains(t, e.Run(NewCmdCapture(e.F, nil), "capture", "x", "-p", "nobody"), `profile "nobody" not found`)
}

// oneEvent is a document of doc's first event alone: a register as the
// municipality.
const oneEvent = `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"mt":"urn:mtrace:vocab:"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-25T16:00:00+03:00",
"epcisBody":{"eventList":[
{"type":"ObjectEvent","eventID":"urn:uuid:c1","eventTime":"2026-11-25T08:10:00+03:00","eventTimeZoneOffset":"+03:00",
 "action":"ADD","bizStep":"collecting","bizLocation":{"id":"urn:mtrace:id:place/depot"},
 "quantityList":[{"epcClass":"urn:mtrace:id:batch/C-1","quantity":640.5,"uom":"KGM"}],
 "ilmd":{"mt:material":"PET","mt:wasteCode":"15 01 02"}}
]}}`

// retrying runs capture of oneEvent whose first fails submits fail with
// fail, recording each wait between tries instead of waiting; ctx is the
// run's context. It returns the report, the run's error and the waits.
func retrying(t *testing.T, ctx context.Context, fails int, fail error, after func(time.Duration) <-chan time.Time) (*env, Report, error, []time.Duration) {
	e := newEnv(t)
	tries := 0
	e.Fake.On(api.Capture, func(args []string) ([]byte, error) {
		if tries++; tries <= fails {
			return nil, fail
		}
		return e.capture(args)
	})
	var waits []time.Duration
	cmd := NewCmdCapture(e.F, func(o *Options) error {
		o.After = func(d time.Duration) <-chan time.Time {
			waits = append(waits, d)
			if after != nil {
				return after(d)
			}
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		}
		return runCapture(ctx, o)
	})
	err := e.Run(cmd, "capture", e.file(t, oneEvent), "-o", "json")
	var r Report
	require.NoError(t, json.Unmarshal(e.Out.Bytes(), &r), e.Out.String())
	require.NotEmpty(t, r.Events)
	return e, r, err, waits
}

// A refusal by the chaincode (the other endorsing peer has not seen the
// block the event follows from yet) is tried again, 250 ms then twice as
// long each time, and the event is captured once a try succeeds.
func TestCaptureRetriesAChaincodeRefusalThatPasses(t *testing.T) {
	e, r, err, waits := retrying(t, context.Background(), 2, ledgertest.Rejection(`batch "C-1": offer not found`), nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, waits)
	assert.Len(t, e.Fake.CallsTo(api.Capture), 3, "two refusals, then the try that passes")
	assert.Equal(t, 1, r.Captured)
	require.Len(t, r.Events, 1)
	assert.Equal(t, Captured, r.Events[0].Result)
	assert.Equal(t, "tx-c1", r.Events[0].Tx)
	assert.Empty(t, r.Events[0].Reason)
}

// A refusal that persists counts after the bounded tries (250 ms to 2 s
// apart: five in all), with the chaincode's message.
func TestCaptureGivesUpOnAPersistentChaincodeRefusal(t *testing.T) {
	e, r, err, waits := retrying(t, context.Background(), 1000, ledgertest.Rejection(`batch "C-1" already exists`), nil)
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.Equal(t, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}, waits)
	assert.Len(t, e.Fake.CallsTo(api.Capture), 5)
	assert.Equal(t, 1, r.Refused)
	require.Len(t, r.Events, 1)
	assert.Equal(t, Refused, r.Events[0].Result)
	assert.Equal(t, `rejected by chaincode: batch "C-1" already exists`, r.Events[0].Reason)
	assert.Empty(t, e.captured)
}

// Only the chaincode's refusals are tried again: a transaction that failed
// validation, or a connection that failed, counts at once.
func TestCaptureDoesNotRetryOtherErrors(t *testing.T) {
	for _, fail := range []error{ledgertest.MVCC(), errors.New("rpc error: code = Unavailable desc = connection refused")} {
		e, r, err, waits := retrying(t, context.Background(), 1, fail, nil)
		require.ErrorIs(t, err, cmdutil.ErrSilent)
		assert.Empty(t, waits, "%v", fail)
		assert.Len(t, e.Fake.CallsTo(api.Capture), 1, "%v", fail)
		require.Len(t, r.Events, 1)
		assert.Equal(t, Refused, r.Events[0].Result)
		assert.Equal(t, fail.Error(), r.Events[0].Reason)
	}
}

// A run cancelled while it waits to try again stops waiting and counts
// the event refused, saying why; the rest of the file is not read.
func TestCaptureRetryStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, r, err, waits := retrying(t, ctx, 1000, ledgertest.Rejection("not yet"), func(time.Duration) <-chan time.Time {
		cancel()
		return nil // never fires
	})
	require.ErrorIs(t, err, cmdutil.ErrSilent)
	assert.Equal(t, []time.Duration{250 * time.Millisecond}, waits)
	assert.Len(t, e.Fake.CallsTo(api.Capture), 1)
	require.Len(t, r.Events, 2)
	assert.Equal(t, Outcome{File: r.Events[0].File, Document: 1, Index: 0, EventID: "urn:uuid:c1", Result: Refused, Kind: "register",
		Profile: "municipality", Reason: context.Canceled.Error()}, r.Events[0])
	assert.Equal(t, Outcome{File: r.Events[0].File, Index: -1, Result: Refused, Reason: context.Canceled.Error()}, r.Events[1])
}
