package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// checkAssociationsAdmitted fails the test for every association of ns whose role's trust does not admit
// pods.eks.amazonaws.com (an association EKS Auth cannot use).
func checkAssociationsAdmitted(t *testing.T, ns, when string) {
	t.Helper()
	ctx := context.Background()
	list, err := eksClient().ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(sandbox.ClusterName), Namespace: aws.String(ns)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list.Associations {
		out, err := eksClient().DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(sandbox.ClusterName), AssociationId: a.AssociationId})
		if err != nil {
			t.Fatal(err)
		}
		role, err := iamref.ParseRole(aws.ToString(out.Association.RoleArn))
		if err != nil {
			t.Fatal(err)
		}
		doc := roleTrust(t, role.Name)
		if doc == nil || doc.EvaluatePodIdentity(trust.PodIdentityRequest{}).Verdict != trust.Admits {
			t.Errorf("%s: association %s of %s/%s is on role %s whose trust does not admit %s: %v", when, aws.ToString(a.AssociationId),
				ns, aws.ToString(a.ServiceAccount), role.Name, trust.ServicePodIdentity, doc)
		}
	}
}

// TestConcurrentPodIdentityLinksOneRole: ten `link --pod-identity --allow` onto one new role at once, three
// rounds: every run that printed success has its statement in the role's inline policy and its association.
// (On main 2df28a6 statements of successful runs were lost: the Pod Identity role plan took no lock.)
func TestConcurrentPodIdentityLinksOneRole(t *testing.T) {
	ns := "pi-conc"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	for round := range 3 {
		role := fmt.Sprintf("pi-conc-r%d", round)
		t.Cleanup(func() { deleteRoleIfExists(t, role) })
		var runs [][]string
		for i := range 10 {
			sa := fmt.Sprintf("r%d-sa%d", round, i)
			createServiceAccount(t, ns, sa, nil)
			runs = append(runs, []string{"link", sa, "-n", ns, "--pod-identity", "--role-name", role, "--allow", "s3:GetObject"})
		}
		results := runAll(t, runs)
		stmts := inlineStatements(t, role)
		for i, r := range results {
			sa := runs[i][1]
			if r.code != 0 || !strings.Contains(r.stdout, "associated ") {
				t.Errorf("round %d run %d failed: %s", round, i, r)
				continue
			}
			if _, ok := stmts[setup.PolicySid(ns, sa)]; !ok {
				t.Errorf("round %d: %s printed success but its statement %s is not in the inline policy (%d statements)", round, sa, setup.PolicySid(ns, sa), len(stmts))
			}
			if a := association(t, ns, sa); a == nil || !strings.HasSuffix(aws.ToString(a.Association.RoleArn), ":role/"+role) {
				t.Errorf("round %d: %s printed success but has no association with %s: %+v", round, sa, role, a)
			}
		}
		checkAssociationsAdmitted(t, ns, fmt.Sprintf("round %d", round))
	}
}

// TestPodIdentityUnlinkRacesLink: five rounds of `unlink --pod-identity` of a role's last user racing a new
// `link --pod-identity` onto the same role: no association is ever left on a role whose trust does not admit
// pods.eks.amazonaws.com, and a link that printed success has its association.
func TestPodIdentityUnlinkRacesLink(t *testing.T) {
	ns := "pi-race"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	for round := range 5 {
		role := fmt.Sprintf("pi-race-r%d", round)
		old, next := fmt.Sprintf("r%d-old", round), fmt.Sprintf("r%d-new", round)
		createServiceAccount(t, ns, old, nil)
		createServiceAccount(t, ns, next, nil)
		createRole(t, role, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
		t.Cleanup(func() { deleteRoleIfExists(t, role) })
		mustSucceed(t, irsaCmd(t, "link", old, "-n", ns, "--pod-identity", "--role-name", role))
		results := runAll(t, [][]string{
			{"unlink", old, "-n", ns, "--pod-identity"},
			{"link", next, "-n", ns, "--pod-identity", "--role-name", role},
		})
		if r := results[1]; r.code == 0 && association(t, ns, next) == nil {
			t.Errorf("round %d: link printed success without an association: %s", round, r)
		}
		if r := results[0]; r.code == 0 && association(t, ns, old) != nil {
			t.Errorf("round %d: unlink printed success but the association stays: %s", round, r)
		}
		checkAssociationsAdmitted(t, ns, fmt.Sprintf("round %d", round))
	}
}

// TestMigrateRacesLink: migrate of a ServiceAccount racing the `unlink --pod-identity` of the role's last other
// Pod Identity user, then a `link --pod-identity`, three rounds. The race is made certain: migrate's
// CreatePodIdentityAssociation is held for 2 s, and the unlink starts meanwhile; it must wait for migrate's lock on
// the role and then keep the Pod Identity statement the new association needs (without the lock it reads no other
// association and removes it). The role's trust keeps the IRSA subject and admits Pod Identity for every
// association; a migration or link that printed success has its association.
func TestMigrateRacesLink(t *testing.T) {
	ns := "pi-migrace"
	createNamespace(t, ns)
	cleanupAssociations(t, ns)
	installAgent(t)
	for round := range 3 {
		role := fmt.Sprintf("pi-migrace-r%d", round)
		mig, other, next := fmt.Sprintf("r%d-mig", round), fmt.Sprintf("r%d-other", round), fmt.Sprintf("r%d-next", round)
		for _, sa := range []string{mig, other, next} {
			createServiceAccount(t, ns, sa, nil)
		}
		createRole(t, role, `{"Version":"2012-10-17","Statement":[`+ec2Statement+`]}`)
		t.Cleanup(func() { deleteRoleIfExists(t, role) })
		mustSucceed(t, irsaCmd(t, "link", mig, "-n", ns, "--role-name", role))
		mustSucceed(t, irsaCmd(t, "link", other, "-n", ns, "--pod-identity", "--role-name", role))
		arrived, release := sb.AWS.InjectDelay(sandbox.Delay{Operation: "eks:CreatePodIdentityAssociation", RoleName: role, Wait: 2 * time.Second})
		migrated := make(chan result, 1)
		go func() { migrated <- runAll(t, [][]string{{"migrate", mig, "-n", ns}})[0] }()
		select {
		case <-arrived:
		case r := <-migrated:
			release()
			t.Fatalf("round %d: migrate ended before creating its association: %s", round, r)
		case <-time.After(time.Minute):
			release()
			t.Fatalf("round %d: migrate never created its association", round)
		}
		release() // only migrate's call is held
		unlinked := mustSucceed(t, irsaCmd(t, "unlink", other, "-n", ns, "--pod-identity"))
		if !strings.Contains(unlinked.stderr, "waiting for lease") {
			t.Errorf("round %d: the unlink did not wait for migrate's lock on the role: %s", round, unlinked)
		}
		results := []result{<-migrated, unlinked}
		// migrate's association exists now: the unlink of the role's other user must have kept the statement
		checkAssociationsAdmitted(t, ns, fmt.Sprintf("round %d, after the unlink", round))
		results = append(results, irsaCmd(t, "link", next, "-n", ns, "--pod-identity", "--role-name", role, "--allow", "s3:GetObject"))
		if r := results[0]; r.code == 0 && association(t, ns, mig) == nil {
			t.Errorf("round %d: migrate printed success without an association: %s", round, r)
		}
		if r := results[2]; r.code == 0 {
			if association(t, ns, next) == nil {
				t.Errorf("round %d: link printed success without an association: %s", round, r)
			}
			if _, ok := inlineStatements(t, role)[setup.PolicySid(ns, next)]; !ok {
				t.Errorf("round %d: link printed success without its statement: %s", round, r)
			}
		}
		doc := roleTrust(t, role)
		if doc.Evaluate(trust.Claims{ProviderARN: provider().ARN, HostPath: provider().HostPath, Subject: trust.Subject(ns, mig), Audience: iamref.DefaultAudience}).Verdict != trust.Admits {
			t.Errorf("round %d: the IRSA subject of %s was lost: %s", round, mig, doc)
		}
		checkAssociationsAdmitted(t, ns, fmt.Sprintf("round %d", round))
	}
}
