package process

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
	"github.com/mtrace/mtrace/client/internal/cmdutil/cmdtest"
)

func newCmd(e *cmdtest.Env) *cobra.Command { return NewCmdProcess(e.F, nil) }

var args = []string{"process", "--step", "Extrusion", "--in", "FLK-1:1000kg", "--in", "lot:7:500 kg",
	"--out", "FIL-1:PET:filament:700kg", "--out", "FIL-2:pet:Filament:720kg", "--virgin", "20kg", "--location", "Gebze"}

func record() model.Process {
	return model.Process{
		Derivation: model.Derivation{Step: model.StepExtrusion, Tx: "tx-extrude",
			By: model.Actor{MSP: "RecyclerMSP", Identity: "User1@recycler.mtrace.local"}, At: "2026-11-22T10:00:00Z",
			Location: "Gebze", Inputs: []model.Take{{ID: "FLK-1", Mass: 1_000_000}, {ID: "lot:7", Mass: 500_000}},
			VirginMass: 20_000, Loss: 100_000},
		Outputs:         []model.Take{{ID: "FIL-1", Mass: 700_000}, {ID: "FIL-2", Mass: 720_000}},
		RecycledContent: 9868}
}

// outputs are the batches record() made, as ReadBatch returns them.
func outputs() map[string]model.Batch {
	rec := record()
	bs := map[string]model.Batch{}
	for _, o := range rec.Outputs {
		bs[o.ID] = model.Batch{ID: o.ID, Material: model.PET, Form: model.FormFilament, InitialMass: o.Mass,
			RemainingMass: o.Mass, Owner: "RecyclerMSP", Submitter: rec.By, Status: model.StatusActive,
			Origin: model.Origin{Process: &rec.Derivation}, RecycledContent: rec.RecycledContent, CreatedAt: rec.At,
			UpdatedAt: rec.At, LastTx: rec.Tx, UpdatedBy: rec.By, Event: model.Event{Name: model.EvBatchProcessed, TxID: rec.Tx}}
	}
	return bs
}

// readBack answers ReadBatch with the output it names.
func readBack(args []string) ([]byte, error) {
	b, ok := outputs()[args[0]]
	if !ok {
		return nil, errors.New("not found")
	}
	return json.Marshal(b)
}

func TestProcess(t *testing.T) {
	var got []string
	for _, format := range []string{"table", "json"} {
		e := cmdtest.New(t)
		e.Fake.OnJSON(api.Process, record())
		e.Fake.On(api.ReadBatch, readBack)
		require.NoError(t, e.Run(newCmd(e), append(append([]string(nil), args...), "-o", format)...))
		calls := e.Fake.Calls()
		require.NotEmpty(t, calls)
		assert.True(t, calls[0].Submit)
		got = calls[0].Args
		reads := e.Fake.CallsTo(api.ReadBatch)
		if format == "json" {
			// JSON prints the outputs, read back in the record's order.
			require.Len(t, reads, 2)
			assert.Equal(t, []string{"FIL-1"}, reads[0].Args)
			assert.Equal(t, []string{"FIL-2"}, reads[1].Args)
		} else {
			assert.Empty(t, reads, "the table needs only the record")
		}
		cmdtest.Golden(t, "process_"+format, e.Out.String())
	}

	// A failed read-back says that the process did commit.
	e := cmdtest.New(t)
	e.Fake.OnJSON(api.Process, record())
	e.Fake.OnError(api.ReadBatch, errors.New("peer unavailable"))
	err := e.Run(newCmd(e), append(append([]string(nil), args...), "-o", "json")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Process committed (tx tx-extrude), but reading output "FIL-1" back failed: peer unavailable`)
	assert.Empty(t, e.Out.String())

	var req model.ProcessRequest
	require.NoError(t, json.Unmarshal([]byte(got[0]), &req))
	assert.Equal(t, model.ProcessRequest{
		Step:       model.StepExtrusion,
		Inputs:     []model.ProcessInput{{ID: "FLK-1", Mass: 1_000_000}, {ID: "lot:7", Mass: 500_000}},
		Outputs:    []model.ProcessOutput{{ID: "FIL-1", Material: model.PET, Form: model.FormFilament, Mass: 700_000}, {ID: "FIL-2", Material: model.PET, Form: model.FormFilament, Mass: 720_000}},
		VirginMass: 20_000, Location: "Gebze",
	}, req)
}

func TestProcessAtSite(t *testing.T) {
	e := cmdtest.New(t)
	rec := record()
	rec.Site, rec.Shares = "8690000000029", &model.Shares{PostConsumer: 600_000, PreConsumer: 386_800}
	e.Fake.OnJSON(api.Process, rec)
	require.NoError(t, e.Run(newCmd(e), append(append([]string(nil), args...), "--site", "8690000000029")...))
	var req model.ProcessRequest
	require.NoError(t, json.Unmarshal([]byte(e.Fake.CallsTo(api.Process)[0].Args[0]), &req))
	assert.Equal(t, "8690000000029", req.Site)
	assert.Contains(t, e.Out.String(), "loss 100 kg, site 8690000000029 (tx tx-extrude)")
	assert.Regexp(t, `FIL-1\s+PET\s+filament\s+700 kg\s+60%\s+38.68%`, e.Out.String())

	e = cmdtest.New(t)
	err := e.Run(newCmd(e), append(append([]string(nil), args...), "--site", "8690000000028")...)
	assert.ErrorContains(t, err, "site: GLN 8690000000028 has check digit 8, want 9")
	assert.Empty(t, e.Fake.Calls())
}

func TestProcessErrors(t *testing.T) {
	cmdtest.SubmitErrors(t, newCmd, api.Process, args...)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"process", "--step", "melting", "--in", "A:1kg", "--out", "B:PET:flakes:1kg"}, "--step: step: must be one of"},
		{[]string{"process", "--step", "sorting", "--in", "A:1.5", "--out", "B:PET:flakes:1kg"}, `--in "A:1.5": malformed mass`},
		{[]string{"process", "--step", "sorting", "--in", "A1kg", "--out", "B:PET:flakes:1kg"}, `--in "A1kg": want ID:MASS`},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "B:PET:1kg"}, `want ID:MATERIAL:FORM:MASS`},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "B:GLASS:flakes:1kg"}, `material: must be one of`},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "B:PET:waste:1kg"}, `outputs[0].form: must be one of sorted`},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "B:PET:flakes:2kg"}, "outputs: mass balance: outputs total 2 kg, more than the 1 kg taken plus 0 g virgin"},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "A:PET:flakes:1kg"}, `outputs[0].id: "A" is already named by inputs[0]`},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg", "--out", "B:PET:flakes:1kg", "--virgin", "x"}, "--virgin: malformed mass"},
		{[]string{"process", "--step", "sorting", "--in", "A:1kg"}, `required flag(s) "out" not set`},
	} {
		e := cmdtest.New(t)
		err := e.Run(newCmd(e), tt.args...)
		require.Error(t, err, tt.args)
		assert.Contains(t, err.Error(), tt.want)
		assert.Empty(t, e.Fake.Calls())
	}
}

func TestParse(t *testing.T) {
	in, err := ParseIn("a:b:c:1.5t")
	require.NoError(t, err)
	assert.Equal(t, model.ProcessInput{ID: "a:b:c", Mass: 1_500_000}, in)
	out, err := ParseOut("x:y:hdpe:PELLETS:900g")
	require.NoError(t, err)
	assert.Equal(t, model.ProcessOutput{ID: "x:y", Material: model.HDPE, Form: model.FormPellets, Mass: 900}, out)
	_, err = ParseIn(":5kg")
	assert.ErrorContains(t, err, "id: must be 1-64 characters")
}

func FuzzParseIn(f *testing.F) {
	for _, s := range []string{"FLK-1:500kg", "a:b:1.25t", ":", "x:", "A:0.0005kg", "A:99999999999999t", "é:1g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseIn(s)
		if err != nil {
			return
		}
		// Whatever parses must be a valid id and a non-negative exact mass,
		// and must print back to something that parses the same.
		require.NoError(t, model.CheckID("id", in.ID))
		require.GreaterOrEqual(t, int64(in.Mass), int64(0))
		again, err := ParseIn(in.ID + ":" + strings.ReplaceAll(in.Mass.String(), " ", ""))
		require.NoError(t, err)
		require.Equal(t, in, again)
	})
}

func FuzzParseOut(f *testing.F) {
	for _, s := range []string{"FIL-1:PET:filament:480kg", "a:b:pla:product:1g", ":::", "x:PET:flakes:", "x:PET:flakes:1e3kg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseOut(s)
		if err != nil {
			return
		}
		require.NoError(t, model.CheckID("id", out.ID))
		_, err = model.ParseMaterial(string(out.Material))
		require.NoError(t, err)
		_, err = model.ParseForm(string(out.Form))
		require.NoError(t, err)
		again, err := ParseOut(strings.Join([]string{out.ID, string(out.Material), string(out.Form), strings.ReplaceAll(out.Mass.String(), " ", "")}, ":"))
		require.NoError(t, err)
		require.Equal(t, out, again)
	})
}
