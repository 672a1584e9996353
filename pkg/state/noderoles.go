package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

// AccessEntryAPI is the part of EKS that the node roles are read from: the cluster's authentication mode and its
// access entries; *eks.Client implements it.
type AccessEntryAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	ListAccessEntries(ctx context.Context, in *eks.ListAccessEntriesInput, optFns ...func(*eks.Options)) (*eks.ListAccessEntriesOutput, error)
	DescribeAccessEntry(ctx context.Context, in *eks.DescribeAccessEntryInput, optFns ...func(*eks.Options)) (*eks.DescribeAccessEntryOutput, error)
}

// nodeAccessEntryTypes are the access entry types of node roles.
var nodeAccessEntryTypes = []string{"EC2_LINUX", "EC2_WINDOWS"}

// NodeRole is a node role and where it was found ("aws-auth" or "access entry").
type NodeRole struct {
	Role   iamref.Role
	Source string
}

// NodeRoles are the cluster's node roles as read, sorted by ARN, with what could not be read.
type NodeRoles struct {
	Roles []NodeRole
	// ClusterARN is the cluster's ARN when DescribeCluster answered ("" otherwise).
	ClusterARN string
	// Unchecked says in full what could not be read; Notes what the endpoint does not serve.
	Unchecked, Notes []string
}

// Names returns the node roles' names.
func (n NodeRoles) Names() map[string]bool {
	out := map[string]bool{}
	for _, r := range n.Roles {
		out[r.Role.Name] = true
	}
	return out
}

// ReadNodeRoles reads the cluster's node roles from the sources its authentication mode uses: the aws-auth
// ConfigMap (mapRoles in group system:nodes) in CONFIG_MAP mode, EKS access entries of type EC2_LINUX or
// EC2_WINDOWS in API mode, both in API_AND_CONFIG_MAP mode or when the mode cannot be read (DescribeCluster
// refused, or an endpoint that does not report it). entries may be nil or cluster "" (aws-auth only). What cannot
// be read is could-not-check, never a missing role.
func ReadNodeRoles(ctx context.Context, kube kubernetes.Interface, entries AccessEntryAPI, cluster string) NodeRoles {
	var out NodeRoles
	add := func(r iamref.Role, source string) {
		if !slices.ContainsFunc(out.Roles, func(n NodeRole) bool { return n.Role.ARN == r.ARN }) {
			out.Roles = append(out.Roles, NodeRole{r, source})
		}
	}
	var mode ekstypes.AuthenticationMode
	if entries != nil && cluster != "" {
		mode, out.ClusterARN = authenticationMode(ctx, entries, cluster)
	}
	if mode != ekstypes.AuthenticationModeApi {
		found, err := awsAuthNodeRoles(ctx, kube)
		if err != nil {
			out.Unchecked = append(out.Unchecked, "could not check the node roles in kube-system/aws-auth: "+err.Error())
		}
		for _, r := range found {
			add(r, "aws-auth")
		}
	}
	if mode != ekstypes.AuthenticationModeConfigMap && entries != nil && cluster != "" {
		found := accessEntryNodeRoles(ctx, entries, cluster, mode, &out)
		for _, r := range found {
			add(r, "access entry")
		}
	}
	slices.SortFunc(out.Roles, func(a, b NodeRole) int { return strings.Compare(a.Role.ARN, b.Role.ARN) })
	slices.Sort(out.Unchecked)
	return out
}

// authenticationMode is the cluster's access configuration mode ("" when it cannot be read), and its ARN.
func authenticationMode(ctx context.Context, entries AccessEntryAPI, cluster string) (ekstypes.AuthenticationMode, string) {
	out, err := entries.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cluster)})
	if err != nil || out.Cluster == nil {
		return "", ""
	}
	arn := aws.ToString(out.Cluster.Arn)
	if out.Cluster.AccessConfig == nil {
		return "", arn
	}
	return out.Cluster.AccessConfig.AuthenticationMode, arn
}

// awsAuthNodeRoles reads the roles of group system:nodes in the aws-auth ConfigMap (none when it does not exist).
func awsAuthNodeRoles(ctx context.Context, kube kubernetes.Interface) ([]iamref.Role, error) {
	cm, err := kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) && status.Status().Message != "" {
			return nil, errors.New(status.Status().Message)
		}
		return nil, err
	}
	var mapRoles []struct {
		RoleARN string   `json:"rolearn"`
		Groups  []string `json:"groups"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["mapRoles"]), &mapRoles); err != nil {
		return nil, fmt.Errorf("mapRoles is not a YAML list of roles: %w", err)
	}
	var out []iamref.Role
	for _, r := range mapRoles {
		role, err := iamref.ParseRole(r.RoleARN)
		if err == nil && slices.Contains(r.Groups, "system:nodes") {
			out = append(out, role)
		}
	}
	return out, nil
}

// accessEntryNodeRoles lists the cluster's access entries (every page) and describes those whose principal is a
// role (maxInFlight at a time), keeping the node types. A cluster in CONFIG_MAP mode answers ListAccessEntries
// with InvalidRequestException: when the mode was not known, that means no access entries, not a failure. An
// endpoint that does not serve the API (an emulator) is a note.
func accessEntryNodeRoles(ctx context.Context, entries AccessEntryAPI, cluster string, mode ekstypes.AuthenticationMode, out *NodeRoles) []iamref.Role {
	var principals []iamref.Role
	pages := eks.NewListAccessEntriesPaginator(entries, &eks.ListAccessEntriesInput{ClusterName: aws.String(cluster)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			var api smithy.APIError
			switch {
			case mode == "" && errors.As(err, &api) && api.ErrorCode() == "InvalidRequestException":
			case awsapi.IsUnavailable(err):
				out.Notes = append(out.Notes, "EKS access entries (node roles) not checked: "+awsapi.Short(err).Error())
			default:
				out.Unchecked = append(out.Unchecked, fmt.Sprintf("could not check the node roles in EKS access entries (eks:ListAccessEntries %s): %v", cluster, awsapi.Short(err)))
			}
			return nil
		}
		for _, arn := range page.AccessEntries {
			if r, err := iamref.ParseRole(arn); err == nil { // users are never node roles
				principals = append(principals, r)
			}
		}
	}
	var mu sync.Mutex
	var roles []iamref.Role
	var g errgroup.Group
	g.SetLimit(maxInFlight)
	for _, r := range principals {
		g.Go(func() error {
			d, err := entries.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(cluster), PrincipalArn: aws.String(r.ARN)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				out.Unchecked = append(out.Unchecked, fmt.Sprintf("could not check EKS access entry %s (eks:DescribeAccessEntry): %v", r.ARN, awsapi.Short(err)))
			case d.AccessEntry != nil && slices.Contains(nodeAccessEntryTypes, aws.ToString(d.AccessEntry.Type)):
				roles = append(roles, r)
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failures are could-not-check
	return roles
}
