package model

import (
	"fmt"
	"strings"
)

// RuleError is a rejected input: the field it concerns and the rule broken.
// Its message names both, for example `mass: must be from 1 g to 1000 t`.
type RuleError struct {
	Field string
	Rule  string
}

func (e *RuleError) Error() string { return e.Field + ": " + e.Rule }

// Material is the polymer (or OTHER) a batch is made of.
type Material string

// Materials, in the order they are listed to users.
const (
	PET   Material = "PET"
	HDPE  Material = "HDPE"
	PVC   Material = "PVC"
	LDPE  Material = "LDPE"
	PP    Material = "PP"
	PS    Material = "PS"
	PLA   Material = "PLA"
	ABS   Material = "ABS"
	PETG  Material = "PETG"
	Other Material = "OTHER"
)

// Materials lists every accepted material.
var Materials = []Material{PET, HDPE, PVC, LDPE, PP, PS, PLA, ABS, PETG, Other}

// Form is what shape the material is in.
type Form string

// Forms, from the kerb to the product.
const (
	FormWaste    Form = "waste"
	FormSorted   Form = "sorted"
	FormFlakes   Form = "flakes"
	FormPellets  Form = "pellets"
	FormFilament Form = "filament"
	FormProduct  Form = "product"
)

// Forms lists every accepted form.
var Forms = []Form{FormWaste, FormSorted, FormFlakes, FormPellets, FormFilament, FormProduct}

// DerivedForms are the forms a process may make: all but waste, which only
// a collection is.
var DerivedForms = Forms[1:]

// Status is where a batch is in its life.
type Status string

// Statuses.
const (
	StatusActive      Status = "active"
	StatusInTransit   Status = "in_transit"
	StatusConsumed    Status = "consumed"
	StatusQuarantined Status = "quarantined"
)

// Statuses lists every status.
var Statuses = []Status{StatusActive, StatusInTransit, StatusConsumed, StatusQuarantined}

// Role is what a participant organisation may do.
type Role string

// Roles.
const (
	RoleCollector Role = "collector" // registers collected waste
	RoleRecycler  Role = "recycler"  // sorts, washes, shreds, pelletises, extrudes
	RoleMaker     Role = "maker"     // prints products
	RoleAuditor   Role = "auditor"   // reads, quarantines, anchors documents
)

// Roles lists every role.
var Roles = []Role{RoleCollector, RoleRecycler, RoleMaker, RoleAuditor}

// Step names a process step.
type Step string

// Process steps.
const (
	StepSorting     Step = "sorting"
	StepWashing     Step = "washing"
	StepShredding   Step = "shredding"
	StepPelletising Step = "pelletising"
	StepExtrusion   Step = "extrusion"
	StepPrinting    Step = "printing"
	StepSplitting   Step = "splitting"
	StepMerging     Step = "merging"
	StepOther       Step = "other"
)

// Steps lists every process step.
var Steps = []Step{StepSorting, StepWashing, StepShredding, StepPelletising, StepExtrusion, StepPrinting, StepSplitting, StepMerging, StepOther}

// ParseMaterial accepts a material name in any case.
func ParseMaterial(s string) (Material, error) {
	return parseEnum("material", strings.ToUpper(strings.TrimSpace(s)), Materials)
}

// ParseForm accepts a form name in any case.
func ParseForm(s string) (Form, error) {
	return parseEnum("form", strings.ToLower(strings.TrimSpace(s)), Forms)
}

// ParseStatus accepts a status name in any case.
func ParseStatus(s string) (Status, error) {
	return parseEnum("status", strings.ToLower(strings.TrimSpace(s)), Statuses)
}

// ParseRole accepts a role name in any case.
func ParseRole(s string) (Role, error) {
	return parseEnum("role", strings.ToLower(strings.TrimSpace(s)), Roles)
}

// ParseStep accepts a process step name in any case.
func ParseStep(s string) (Step, error) {
	return parseEnum("step", strings.ToLower(strings.TrimSpace(s)), Steps)
}

func parseEnum[T ~string](field, s string, allowed []T) (T, error) {
	for _, a := range allowed {
		if string(a) == s {
			return a, nil
		}
	}
	return "", &RuleError{Field: field, Rule: fmt.Sprintf("must be one of %s, got %q", joinEnum(allowed), s)}
}
