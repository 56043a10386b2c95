package contract

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/mtrace/mtrace/chaincode/api"
	"github.com/mtrace/mtrace/chaincode/model"
)

// Who may call what. Every transaction is checked before it runs (the
// contract's BeforeTransaction hook): the caller's certificate must carry
// the mtrace.role attribute with a known role. Reads (isRead) are open
// to every role; every other function writes and needs operator or admin.
// The organisation admins' functions (registry votes, bootstrap,
// migration) also need role admin and certificate OU "admin"; they check
// it themselves (requireAdmin), where they checked the OU before roles
// existed. The role counts only within the caller's own organisation: it is
// read with the MSP ID of the certificate, and the organisation's registry
// role still decides what the organisation may do.

// enrollmentIDAttribute is the attribute Fabric CA adds to every
// enrolment certificate with the identity's enrolment ID.
const enrollmentIDAttribute = "hf.EnrollmentID"

// isRead says whether fn changes nothing, as package api lists it; any
// role may call a read.
func isRead(fn string) bool {
	tx, ok := api.Lookup(fn)
	return ok && !tx.Write
}

// caller is who submitted a transaction, as their certificate says.
type caller struct {
	actor model.Actor
	ous   []string
}

// identify reads the caller's MSP ID, certificate and attributes.
func identify(ctx contractapi.TransactionContextInterface) (*caller, error) {
	ci := ctx.GetClientIdentity()
	if c, ok := ci.(*cid.ClientID); ci == nil || ok && c == nil {
		// contract-api drops cid.New's error; ask again for the cause.
		if _, err := cid.New(ctx.GetStub()); err != nil {
			return nil, fmt.Errorf("caller identity: %w", err)
		}
		return nil, errors.New("caller identity: cannot read the submitting identity")
	}
	msp, err := ci.GetMSPID()
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	cert, err := ci.GetX509Certificate()
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	if cert == nil {
		return nil, errors.New("caller identity: not an X.509 identity")
	}
	a := model.Actor{MSP: msp, Identity: cert.Subject.CommonName, EnrollmentID: cert.Subject.CommonName}
	id, found, err := ci.GetAttributeValue(enrollmentIDAttribute)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	if found && id != "" {
		a.EnrollmentID = id
	}
	role, found, err := ci.GetAttributeValue(model.RoleAttribute)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	if found {
		a.Role = model.PersonRole(role)
	}
	return &caller{actor: a, ous: cert.Subject.OrganizationalUnit}, nil
}

// may checks that the caller may call fn.
func (c *caller) may(fn string) error {
	a := c.actor
	who := fmt.Sprintf("caller %s (%s)", a.Person(), a.MSP)
	switch {
	case a.Role == "":
		return fmt.Errorf("%s has no %s attribute in its certificate: enrol it with %s=%s",
			who, model.RoleAttribute, model.RoleAttribute, joinOr(model.PersonRoleNames()))
	case !a.Role.Known():
		return fmt.Errorf("%s has %s %q, which is not a role (%s)",
			who, model.RoleAttribute, clipRole(a.Role), joinOr(model.PersonRoleNames()))
	case !isRead(fn) && !a.Role.MayWrite():
		return fmt.Errorf("%s has %s %q, which may only read; %s needs %s or %s",
			who, model.RoleAttribute, a.Role, fn, model.PersonOperator, model.PersonAdmin)
	}
	return nil
}

// checkAccess returns a BeforeTransaction hook that refuses callers whose
// role may not call the function. Functions not in known are
// contract-api's to refuse.
func checkAccess(known map[string]int) func(contractapi.TransactionContextInterface) error {
	return func(ctx contractapi.TransactionContextInterface) error {
		fn, _ := ctx.GetStub().GetFunctionAndParameters()
		fn = fn[strings.LastIndex(fn, ":")+1:]
		if _, ok := known[fn]; !ok {
			return nil
		}
		c, err := identify(ctx)
		if err != nil {
			return err
		}
		return c.may(fn)
	}
}

// clipRole keeps an unknown role short and on one line in a message.
func clipRole(r model.PersonRole) string {
	s := strings.Join(strings.Fields(string(r)), " ")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func ouList(ous []string) string {
	if len(ous) == 0 {
		return "none"
	}
	return strings.Join(ous, ", ")
}
