package model

import "slices"

// RoleAttribute is the enrolment certificate attribute that carries a
// person's in-house role. Any organisation's CA can issue any attribute,
// so a role means something only together with the MSP ID of the
// certificate that carries it: a role is always a role within that
// organisation, on top of what the organisation's registry role allows.
const RoleAttribute = "mtrace.role"

// PersonRole is what one person may do for their organisation.
type PersonRole string

// Person roles.
const (
	PersonOperator PersonRole = "operator" // submits everything the organisation's role allows
	PersonViewer   PersonRole = "viewer"   // reads only
	PersonAdmin    PersonRole = "admin"    // an organisation admin: registry votes, migration, identities
)

// PersonRoles lists every person role.
var PersonRoles = []PersonRole{PersonOperator, PersonViewer, PersonAdmin}

// PersonRoleNames lists PersonRoles as strings, for messages.
func PersonRoleNames() []string {
	names := make([]string, len(PersonRoles))
	for i, r := range PersonRoles {
		names[i] = string(r)
	}
	return names
}

// Known reports whether r is one of PersonRoles.
func (r PersonRole) Known() bool { return slices.Contains(PersonRoles, r) }

// MayWrite reports whether a person with role r may submit changes.
func (r PersonRole) MayWrite() bool { return r == PersonOperator || r == PersonAdmin }
