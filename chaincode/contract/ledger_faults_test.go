package contract

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mtrace/mtrace/chaincode/internal/fakestub"
	"github.com/mtrace/mtrace/chaincode/model"
)

// errLedger is what a faulty peer answers to a ledger call.
var errLedger = errors.New("fault: the ledger is unavailable")

// faultyStub is a transaction whose peer fails one ledger call: the
// fail-th (counting from 1) of the calls that read or write state, set the
// event or the key-level policy, or read the transaction time. With fail
// 0 it fails none, and counts them.
type faultyStub struct {
	*fakestub.Stub
	fail  int
	calls []string // the calls made, in order
}

func (s *faultyStub) fault(call string) error {
	s.calls = append(s.calls, call)
	if len(s.calls) == s.fail {
		return fmt.Errorf("%s: %w", call, errLedger)
	}
	return nil
}

func (s *faultyStub) GetState(key string) ([]byte, error) {
	if err := s.fault("GetState"); err != nil {
		return nil, err
	}
	return s.Stub.GetState(key)
}

func (s *faultyStub) GetMultipleStates(keys ...string) ([][]byte, error) {
	if err := s.fault("GetMultipleStates"); err != nil {
		return nil, err
	}
	return s.Stub.GetMultipleStates(keys...)
}

func (s *faultyStub) PutState(key string, value []byte) error {
	if err := s.fault("PutState"); err != nil {
		return err
	}
	return s.Stub.PutState(key, value)
}

func (s *faultyStub) DelState(key string) error {
	if err := s.fault("DelState"); err != nil {
		return err
	}
	return s.Stub.DelState(key)
}

func (s *faultyStub) GetStateByPartialCompositeKeyWithPagination(obj string, keys []string, size int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if err := s.fault("GetStateByPartialCompositeKeyWithPagination"); err != nil {
		return nil, nil, err
	}
	return s.Stub.GetStateByPartialCompositeKeyWithPagination(obj, keys, size, bookmark)
}

func (s *faultyStub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	if err := s.fault("GetHistoryForKey"); err != nil {
		return nil, err
	}
	return s.Stub.GetHistoryForKey(key)
}

func (s *faultyStub) SetEvent(name string, payload []byte) error {
	if err := s.fault("SetEvent"); err != nil {
		return err
	}
	return s.Stub.SetEvent(name, payload)
}

func (s *faultyStub) SetStateValidationParameter(key string, ep []byte) error {
	if err := s.fault("SetStateValidationParameter"); err != nil {
		return err
	}
	return s.Stub.SetStateValidationParameter(key, ep)
}

func (s *faultyStub) GetStateValidationParameter(key string) ([]byte, error) {
	if err := s.fault("GetStateValidationParameter"); err != nil {
		return nil, err
	}
	return s.Stub.GetStateValidationParameter(key)
}

func (s *faultyStub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	if err := s.fault("GetTxTimestamp"); err != nil {
		return nil, err
	}
	return s.Stub.GetTxTimestamp()
}

// run invokes fn on a stub that fails its fail-th ledger call; nothing it
// writes is committed.
func (w *world) runFaulty(fail int, id *fakestub.Identity, fn string, a ...any) (*peer.Response, []string) {
	s := &faultyStub{Stub: w.l.NewStub(id, append([]string{fn}, args(w.tb, a)...)...), fail: fail}
	return w.cc.Invoke(s), s.calls
}

// TestEveryLedgerFaultAborts fails, one at a time, every ledger call each
// transaction makes, and requires the transaction to fail with the peer's
// error: a failed read is never taken for a missing key or an empty page,
// and a failed write never reported as done.
func TestEveryLedgerFaultAborts(t *testing.T) {
	w := story(t)
	w.register("NEW-0", kg(5))
	w.ok(w.rec, nil, "OfferTransfer", "SPOOL-2", w.mak.MSP)
	w.ok(recAdmin, nil, "SetSite", model.SiteRequest{ID: plant, Name: "plant"})
	w.ok(makAdmin, nil, "SetSite", model.SiteRequest{ID: makerWs, Name: "workshop"})
	w.register("NEW-2", kg(5))
	w.ok(w.mun, nil, "OfferTransfer", "NEW-2", w.rec.MSP)
	w.ok(w.mun, nil, "IssueDeclaration", model.DeclarationRequest{ID: "D-C", Batch: "NEW-2", Model: model.Segregated})
	w.ok(w.rec, nil, "AcceptTransfer", "NEW-2", int64(0))
	chair := w.batch("CHAIR-1")
	spool := w.batch("SPOOL-3")
	calls := []struct {
		id *fakestub.Identity
		fn string
		a  []any
	}{
		{w.mun, "RegisterBatch", []any{regReq("NEW-1", kg(10))}},
		{w.mun, "OfferTransfer", []any{"NEW-0", w.rec.MSP}},
		{w.mak, "AcceptTransfer", []any{"SPOOL-2", int64(0)}},
		{w.mak, "AcceptTransferAt", []any{"SPOOL-2", int64(0), makerWs}},
		{recAdmin, "SetSite", []any{model.SiteRequest{ID: annex, Name: "annex", Default: true}}},
		{w.aud, "GetSites", []any{"RecyclerMSP"}},
		{w.rec, "RegisterPurchase", []any{purchase("BUY-F")}},
		{w.rec, "IssueDeclaration", []any{model.DeclarationRequest{ID: "D-F", Batch: "SPOOL-2", Model: model.MassBalance}}},
		{w.rec, "ClaimDeclaration", []any{"D-C"}},
		{w.aud, "ReadDeclaration", []any{"D-C"}},
		{w.mak, "RejectTransfer", []any{"SPOOL-2", "wet"}},
		{w.rec, "CancelTransfer", []any{"SPOOL-2"}},
		{w.rec, "Process", []any{model.ProcessRequest{Step: model.StepSplitting,
			Inputs: []model.ProcessInput{in("SPOOL-3", kg(100))}, Outputs: []model.ProcessOutput{out("HALF-1", model.FormFilament, kg(50)), out("HALF-2", model.FormFilament, kg(50))}}}},
		{w.rec, "Quarantine", []any{"SPOOL-4", "smell"}},
		{w.rec, "AttachDocument", []any{"SPOOL-4", "report", strings.Repeat("ab", 32), ""}},
		{w.mun, "Capture", []any{capReg("urn:uuid:fault-1", "CAP-1", kg(3))}},
		{w.aud, "ReadBatch", []any{"CHAIR-1"}},
		{w.aud, "BatchExists", []any{"CHAIR-1"}},
		{w.aud, "ReadBatches", []any{[]string{"C1", "CHAIR-1"}}},
		{w.aud, "GetProcess", []any{chair.Origin.Process.Tx}},
		{w.aud, "Trace", []any{"CHAIR-1", "up"}},
		{w.aud, "Trace", []any{"C1", "down"}},
		{w.aud, "TraceDown", []any{model.DownQuery{IDs: []string{"C1", "FLK-1"}}}},
		{w.aud, "VerifyProvenance", []any{"CHAIR-1", ""}},
		{w.aud, "Evidence", []any{"CHAIR-1"}},
		{w.aud, "ListTakes", []any{"FLK-1", "", 0}},
		{w.aud, "ListBatches", []any{model.ListQuery{Owner: "RecyclerMSP"}}},
		{w.aud, "ListBatches", []any{model.ListQuery{}}},
		{w.aud, "GetHistory", []any{spool.ID}},
		{w.aud, "GetRegistry", nil},
		{w.adm, "PendingMigration", []any{"", 0}},
	}
	for _, c := range calls {
		t.Run(c.fn, func(t *testing.T) {
			resp, made := w.runFaulty(0, c.id, c.fn, c.a...)
			require.Equalf(t, int32(shim.OK), resp.Status, "%s on a healthy ledger: %s", c.fn, resp.Message)
			require.NotEmpty(t, made, "%s makes no ledger call", c.fn)
			for k := 1; k <= len(made); k++ {
				resp, _ := w.runFaulty(k, c.id, c.fn, c.a...)
				assert.NotEqualf(t, int32(shim.OK), resp.Status, "%s succeeded although its call %d (%s) failed", c.fn, k, made[k-1])
				assert.Containsf(t, resp.Message, errLedger.Error(), "%s, call %d (%s) failed", c.fn, k, made[k-1])
			}
		})
	}
}
