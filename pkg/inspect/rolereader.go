package inspect

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// DefaultListThreshold is the number of distinct roles of one account above which the read commands list the
// account's roles (iam:ListRoles, 1,000 a page, trust documents inline) instead of one iam:GetRole each.
const DefaultListThreshold = 20

// listThreshold is the threshold in force.
func (in *Inspector) listThreshold() int {
	if in.ListThreshold > 0 {
		return in.ListThreshold
	}
	return DefaultListThreshold
}

// listPageSize is ListRoles' largest page.
const listPageSize = 1000

// readRoles reads each distinct role once, choosing the strategy by size: when the account with the most
// referenced roles has more than the threshold, its roles come from ListRoles pages (filtered by their common
// path); every role the listing did not give (another account, created since, at another path) is read with
// GetRole, at most 8 at a time (state.Reader.Roles).
func (in *Inspector) readRoles(ctx context.Context, roles map[string]iamref.Role) {
	byAccount := map[string][]iamref.Role{}
	largest := ""
	for _, r := range roles {
		key := r.Partition + ":" + r.Account
		byAccount[key] = append(byAccount[key], r)
		if largest == "" || len(byAccount[key]) > len(byAccount[largest]) || (len(byAccount[key]) == len(byAccount[largest]) && key < largest) {
			largest = key
		}
	}
	if len(byAccount[largest]) > in.listThreshold() {
		in.listRoles(ctx, byAccount[largest])
	}
	var unlisted []iamref.Role
	for _, r := range roles {
		if in.cachedRole(r.ARN) == nil {
			unlisted = append(unlisted, r)
		}
	}
	in.state().Roles(ctx, unlisted) // GetRole each, errgroup-bounded, cached for role below
	for _, r := range roles {
		in.role(ctx, r, false, nil)
	}
}

// listRoles records the roles of refs (one account) that ListRoles returns: found with their trust, or at
// another path than the referenced ARN. The listing stops after the first page when it shows another account
// (the caller's roles are not the referenced ones). A failed listing is a note: the roles are then read one by one.
func (in *Inspector) listRoles(ctx context.Context, refs []iamref.Role) {
	wanted := map[string][]iamref.Role{} // by lower-case name: IAM role names are unique case-insensitively
	for _, r := range refs {
		key := strings.ToLower(r.Name)
		wanted[key] = append(wanted[key], r)
	}
	input := &iam.ListRolesInput{MaxItems: aws.Int32(listPageSize)}
	if p := commonPath(refs); p != "/" {
		input.PathPrefix = aws.String(p)
	}
	states := map[string]*roleState{}
	pages := iam.NewListRolesPaginator(in.IAM, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			in.note(fmt.Sprintf("iam:ListRoles failed (%v): roles read one by one with iam:GetRole", awsapi.Short(err)))
			return
		}
		if len(page.Roles) > 0 && !sameAccount(aws.ToString(page.Roles[0].Arn), refs[0]) {
			return // the caller is in another account
		}
		for _, listed := range page.Roles {
			for _, r := range wanted[strings.ToLower(aws.ToString(listed.RoleName))] {
				states[r.ARN] = in.listedRole(r, listed)
			}
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.roles == nil {
		in.roles = map[string]*roleState{}
	}
	for arn, st := range states {
		if in.roles[arn] == nil {
			in.roles[arn] = st
		}
	}
}

// listedRole is the state of a referenced role as ListRoles gave it, judged as GetRole's answer would be.
func (in *Inspector) listedRole(r iamref.Role, listed types.Role) *roleState {
	st := &roleState{role: &doctor.Role{ARN: r.ARN, Name: r.Name, Account: r.Account}}
	if arn := aws.ToString(listed.Arn); arn != r.ARN {
		st.actualARN = arn
		return st
	}
	doc, err := trust.Parse(aws.ToString(listed.AssumeRolePolicyDocument))
	if err != nil {
		st.unreadable = true
		in.couldNotCheck("the trust policy of role "+r.Name, err)
		return st
	}
	st.role.Found, st.role.Trust = true, doc
	return st
}

// commonPath is the longest path every role shares ("/" when none).
func commonPath(refs []iamref.Role) string {
	if len(refs) == 0 {
		return "/"
	}
	p := refs[0].Path
	for _, r := range refs[1:] {
		for !strings.HasPrefix(r.Path, p) {
			p = p[:strings.LastIndex(strings.TrimSuffix(p, "/"), "/")+1]
		}
	}
	if p == "" {
		return "/"
	}
	return p
}

func sameAccount(arn string, r iamref.Role) bool {
	listed, err := iamref.ParseRole(arn)
	return err == nil && listed.Account == r.Account && listed.Partition == r.Partition
}
