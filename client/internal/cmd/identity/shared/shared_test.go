package shared

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNode(t *testing.T) {
	names := []string{"recycler", "recycler-admin", "north-city", "north-city-admin", "maker-admin"}
	for profile, want := range map[string]string{
		"recycler":         "recycler",
		"recycler-admin":   "recycler",
		"recycler-derya":   "recycler",
		"north-city-admin": "north-city",
		"maker-admin":      "maker", // no profile "maker": up to the first dash
		"solo":             "solo",
	} {
		assert.Equal(t, want, Node(profile, names), profile)
	}
}

func TestParseRoleAndName(t *testing.T) {
	r, err := ParseRole(" Viewer ")
	assert.NoError(t, err)
	assert.Equal(t, "viewer", string(r))
	_, err = ParseRole("")
	assert.EqualError(t, err, `--role: must be operator, viewer, admin, got ""`)
	assert.Equal(t, "client", FabricType("operator"))
	assert.Equal(t, "admin", FabricType("admin"))

	for _, ok := range []string{"derya", "User1@recycler.mtrace.local", "a_b-c.d"} {
		_, err := CheckName(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "a b", "a:b", "ä", string(make([]byte, 65))} {
		_, err := CheckName(bad)
		assert.Error(t, err, bad)
	}
}
