package process

import (
	"fmt"
	"strings"

	"github.com/mtrace/mtrace/chaincode/model"
)

// ParseIn reads an --in value, ID:MASS, such as "FLK-1:500kg". Batch ids
// may contain colons, so the mass is what follows the last one.
func ParseIn(s string) (model.ProcessInput, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return model.ProcessInput{}, fmt.Errorf("--in %q: want ID:MASS, such as FLK-1:500kg", s)
	}
	id, mass := s[:i], s[i+1:]
	if err := model.CheckID("id", id); err != nil {
		return model.ProcessInput{}, fmt.Errorf("--in %q: %w", s, err)
	}
	g, err := model.ParseMass(mass)
	if err != nil {
		return model.ProcessInput{}, fmt.Errorf("--in %q: %w", s, err)
	}
	return model.ProcessInput{ID: id, Mass: g}, nil
}

// ParseOut reads an --out value, ID:MATERIAL:FORM:MASS, such as
// "FIL-1:PET:filament:480kg". The last three fields never contain a
// colon, so the id is everything before them.
func ParseOut(s string) (model.ProcessOutput, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 4 {
		return model.ProcessOutput{}, fmt.Errorf("--out %q: want ID:MATERIAL:FORM:MASS, such as FIL-1:PET:filament:480kg", s)
	}
	n := len(parts)
	id := strings.Join(parts[:n-3], ":")
	if err := model.CheckID("id", id); err != nil {
		return model.ProcessOutput{}, fmt.Errorf("--out %q: %w", s, err)
	}
	mat, err := model.ParseMaterial(parts[n-3])
	if err != nil {
		return model.ProcessOutput{}, fmt.Errorf("--out %q: %w", s, err)
	}
	form, err := model.ParseForm(parts[n-2])
	if err != nil {
		return model.ProcessOutput{}, fmt.Errorf("--out %q: %w", s, err)
	}
	g, err := model.ParseMass(parts[n-1])
	if err != nil {
		return model.ProcessOutput{}, fmt.Errorf("--out %q: %w", s, err)
	}
	return model.ProcessOutput{ID: id, Material: mat, Form: form, Mass: g}, nil
}
