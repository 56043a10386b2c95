package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mtrace/mtrace/chaincode/model"
)

// The year of a city: the flows of a municipality, a recycler and a maker
// over a year, planned in advance from a seed so that every run of the
// same size writes the same batches under the same ids (a rerun skips
// what exists).
//
// The plan is made of units. One unit is one district's collection rounds
// as far as products:
//
//   - the municipality registers CityCollections collections of PET
//     (40-160 kg each, post-consumer) at one of its transfer stations;
//   - it sorts them there into bales, CityPerBale collections a bale
//     (sorting, 8% residue), and hands the bales to the recycler, which
//     accepts them at one of its two plants;
//   - the recycler buys one lot of pre-consumer film scrap
//     (RegisterPurchase, 2-4 t) at that plant;
//   - it washes the bales and the scrap into CityFlakes flake batches
//     (15% loss), and extrudes the flakes into CityLots filament lots
//     (3% loss);
//   - it hands each lot to the maker with a batch declaration; the maker
//     accepts it at its workshop, claims the declaration and prints the
//     lot into CityProducts products (10% loss).
const (
	CityCollections = 500
	CityPerBale     = 50
	CityBales       = CityCollections / CityPerBale
	CityFlakes      = 2
	CityLots        = 4
	CityProducts    = 5
	// CityUnitBatches is the number of batches one unit makes.
	CityUnitBatches = CityCollections + CityBales + 1 + CityFlakes + CityLots + CityLots*CityProducts
	// CityUnitTxs is the number of transactions one unit submits:
	// registrations, bales, bale offers and accepts, the purchase, the
	// wash, the extrusion, and per lot an offer, a declaration, an
	// accept, a claim and a print.
	CityUnitTxs = CityCollections + 3*CityBales + 1 + 1 + 1 + 5*CityLots
)

// CityPrefix starts every id the city load writes.
const CityPrefix = "city"

// The city's sites, by GLN: the municipality's transfer stations, the
// recycler's plants and the maker's workshop.
var (
	CityStations = []string{gln("869100000001"), gln("869100000002"), gln("869100000003"), gln("869100000004")}
	CityPlants   = []string{gln("869200000001"), gln("869200000002")}
	CityWorkshop = gln("869300000001")
)

// gln completes 12 digits with their GS1 check digit.
func gln(digits string) string { return digits + string(model.GS1CheckDigit(digits)) }

// CityPlan is the load for a ledger of at least a given number of
// batches.
type CityPlan struct {
	Units int
	Seed  uint64
	// Year is the calendar year the collections are dated in.
	Year int
}

// PlanCity plans enough units for at least batches batches.
func PlanCity(batches int, seed uint64) CityPlan {
	units := max(1, (batches+CityUnitBatches-1)/CityUnitBatches)
	return CityPlan{Units: units, Seed: seed, Year: 2026}
}

// Batches is the number of batches the plan makes; Transactions the
// number of transactions it submits.
func (p CityPlan) Batches() int      { return p.Units * CityUnitBatches }
func (p CityPlan) Transactions() int { return p.Units * CityUnitTxs }

// CityUnit is one unit of the plan, with every request it submits.
type CityUnit struct {
	Index   int
	Station string // the municipality's transfer station
	Plant   string // the recycler's plant
	// Register are the collections; Bales sort them, CityPerBale each.
	Register []model.RegisterRequest
	Bales    []model.ProcessRequest
	Purchase model.PurchaseRequest
	Wash     model.ProcessRequest
	Extrude  model.ProcessRequest
	// Lots are the filament lots the maker receives, each with its
	// declaration's id and the print that uses it.
	Lots []CityLot
}

// CityLot is one filament lot handed to the maker.
type CityLot struct {
	ID          string
	Mass        model.Grams
	Declaration string
	Print       model.ProcessRequest
}

// cityID is the id of the i-th batch of a kind: kinds are one letter.
func cityID(kind string, parts ...int) string {
	s := CityPrefix + "-" + kind
	for i, p := range parts {
		if i == 0 {
			s += fmt.Sprintf("%06d", p)
		} else {
			s += fmt.Sprintf("-%d", p)
		}
	}
	return s
}

// Unit returns unit u of the plan. It depends only on the seed, the
// unit's index and the plan's size (which spreads the collection dates
// over the year).
func (p CityPlan) Unit(u int) CityUnit {
	rng := rand.New(rand.NewPCG(p.Seed, uint64(u)))
	cu := CityUnit{Index: u, Station: CityStations[u%len(CityStations)], Plant: CityPlants[u%len(CityPlants)]}
	// The unit's day: from 2 January to 30 November, in plan order.
	day := time.Date(p.Year, 1, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, u*332/max(1, p.Units))
	cu.Register = make([]model.RegisterRequest, CityCollections)
	for k := range cu.Register {
		at := day.Add(6*time.Hour + time.Duration(k)*time.Minute)
		cu.Register[k] = model.RegisterRequest{
			ID: cityID("c", u*CityCollections+k), Material: model.PET, WasteCode: "15 01 02",
			Mass:     model.Grams(40_000 + rng.IntN(1201)*100),
			Location: fmt.Sprintf("district %d", u%40+1), CollectedAt: at.Format(time.RFC3339),
			OriginClass: model.PostConsumer, Site: cu.Station,
		}
	}
	var washIn []model.ProcessInput
	var washMass model.Grams
	for b := range CityBales {
		req := model.ProcessRequest{Step: model.StepSorting, Site: cu.Station}
		var in model.Grams
		for _, c := range cu.Register[b*CityPerBale : (b+1)*CityPerBale] {
			req.Inputs = append(req.Inputs, model.ProcessInput{ID: c.ID, Mass: c.Mass})
			in += c.Mass
		}
		out := in * 92 / 100
		req.Outputs = []model.ProcessOutput{{ID: cityID("b", u*CityBales+b), Material: model.PET, Form: model.FormSorted, Mass: out}}
		cu.Bales = append(cu.Bales, req)
		washIn = append(washIn, model.ProcessInput{ID: req.Outputs[0].ID, Mass: out})
		washMass += out
	}
	ticket := fmt.Sprintf("WB-%d-%06d", p.Year, u)
	sum := sha256.Sum256([]byte(ticket))
	cu.Purchase = model.PurchaseRequest{
		ID: cityID("p", u), Material: model.PET, WasteCode: "07 02 13",
		Mass:     model.Grams(2_000_000 + rng.IntN(2001)*1000),
		Supplier: "Marmara film converters", SupplierID: fmt.Sprintf("TR-%04d", u%7+1),
		OriginClass: model.PreConsumer, Site: cu.Plant,
		ReceivedAt: day.Add(15 * time.Hour).Format(time.RFC3339),
		Ticket:     ticket, TicketSHA256: hex.EncodeToString(sum[:]),
	}
	washIn = append(washIn, model.ProcessInput{ID: cu.Purchase.ID, Mass: cu.Purchase.Mass})
	washMass += cu.Purchase.Mass
	cu.Wash = model.ProcessRequest{Step: model.StepWashing, Inputs: washIn, Site: cu.Plant}
	flake := washMass * 85 / 100 / CityFlakes
	var extIn []model.ProcessInput
	for f := range CityFlakes {
		id := cityID("f", u, f)
		cu.Wash.Outputs = append(cu.Wash.Outputs, model.ProcessOutput{ID: id, Material: model.PET, Form: model.FormFlakes, Mass: flake})
		extIn = append(extIn, model.ProcessInput{ID: id, Mass: flake})
	}
	cu.Extrude = model.ProcessRequest{Step: model.StepExtrusion, Inputs: extIn, Site: cu.Plant}
	lot := flake * CityFlakes * 97 / 100 / CityLots
	for l := range CityLots {
		id := cityID("l", u, l)
		cu.Extrude.Outputs = append(cu.Extrude.Outputs, model.ProcessOutput{ID: id, Material: model.PET, Form: model.FormFilament, Mass: lot})
		pr := model.ProcessRequest{Step: model.StepPrinting, Inputs: []model.ProcessInput{{ID: id, Mass: lot}}, Site: CityWorkshop}
		for x := range CityProducts {
			pr.Outputs = append(pr.Outputs, model.ProcessOutput{ID: cityID("x", u, l, x), Material: model.PET, Form: model.FormProduct, Mass: lot * 90 / 100 / CityProducts})
		}
		cu.Lots = append(cu.Lots, CityLot{ID: id, Mass: lot, Declaration: cityID("d", u, l), Print: pr})
	}
	return cu
}
