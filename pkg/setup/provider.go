package setup

import (
	"context" //nolint:gosec // IAM OIDC thumbprints are SHA-1 by definition.
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// IAMAPI is the part of IAM the write commands call; *iam.Client implements it.
type IAMAPI interface {
	state.RoleReadAPI
	CreateOpenIDConnectProvider(ctx context.Context, in *iam.CreateOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.CreateOpenIDConnectProviderOutput, error)
	DeleteOpenIDConnectProvider(ctx context.Context, in *iam.DeleteOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.DeleteOpenIDConnectProviderOutput, error)
	AddClientIDToOpenIDConnectProvider(ctx context.Context, in *iam.AddClientIDToOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.AddClientIDToOpenIDConnectProviderOutput, error)
	RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *iam.RemoveClientIDFromOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.RemoveClientIDFromOpenIDConnectProviderOutput, error)

	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)

	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)

	AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)

	// The account's trust policy quota and OIDC providers.
	state.QuotaAPI
}

// ProviderState is the IAM OIDC provider as found, and what it lacks.
type ProviderState struct {
	Provider trust.Provider
	Exists   bool
	// MissingClientID is an audience the provider does not list yet.
	MissingClientID string
}

// LookupProvider reads the provider for an issuer in an account (one GetOpenIDConnectProvider call).
func LookupProvider(ctx context.Context, client IAMAPI, partition, account, issuer, audience string) (ProviderState, error) {
	st := ProviderState{Provider: trust.NewProvider(partition, account, issuer)}
	read := state.ReadProvider(ctx, client, st.Provider.ARN)
	switch read.Presence {
	case state.Missing:
		return st, nil
	case state.Unknown:
		return st, read.ReadError()
	}
	st.Exists = true
	if !slices.Contains(read.ClientIDs, audience) {
		st.MissingClientID = audience
	}
	return st, nil
}

// CreateProvider creates the IAM OIDC provider with client ID audience, tagged as ours, with a thumbprint when
// one is given (IAM fetches and verifies the issuer's certificate itself when it is left out).
func CreateProvider(ctx context.Context, client IAMAPI, issuer, audience, thumbprint string) error {
	in := &iam.CreateOpenIDConnectProviderInput{
		Url:          aws.String(issuer),
		ClientIDList: []string{audience},
		Tags:         managedTags(trust.HostPath(issuer)),
	}
	if thumbprint != "" {
		in.ThumbprintList = []string{thumbprint}
	}
	if _, err := client.CreateOpenIDConnectProvider(ctx, in); err != nil {
		return fmt.Errorf("iam:CreateOpenIDConnectProvider %s: %w", issuer, awsapi.Short(err))
	}
	return nil
}

// CreateProviderStep is the Do of a step that creates the provider: a provider another run created since the
// plan (EntityAlreadyExists; pipelines linking on a fresh cluster at once) makes the step unchanged, so this
// run's rollback never deletes it; audience is added to it when that run did not list it (kept on rollback).
func CreateProviderStep(ctx context.Context, client IAMAPI, issuer, providerARN, audience, thumbprint string) error {
	err := CreateProvider(ctx, client, issuer, audience, thumbprint)
	if err == nil || !isAlreadyExists(err) {
		return err
	}
	read := state.ReadProvider(ctx, client, providerARN)
	if read.Presence != state.Found {
		return errors.Join(err, read.ReadError())
	}
	if !slices.Contains(read.ClientIDs, audience) {
		if err := AddClientID(ctx, client, providerARN, audience); err != nil {
			return err
		}
	}
	return steps.ErrUnchanged
}

// Tags kubectl irsa puts on what it creates, so list, unlink and audit can tell its roles apart.
const (
	ManagedByTagKey   = "kubectl-irsa.io/managed-by"
	ManagedByTagValue = "kubectl-irsa"
	IssuerTagKey      = "kubectl-irsa.io/issuer"
)

func managedTags(issuerHostPath string) []iamtypes.Tag {
	return []iamtypes.Tag{
		{Key: aws.String(ManagedByTagKey), Value: aws.String(ManagedByTagValue)},
		{Key: aws.String(IssuerTagKey), Value: aws.String(issuerHostPath)},
	}
}

func isManaged(tags map[string]string) bool { return tags[ManagedByTagKey] == ManagedByTagValue }

// tagMap is tags as a map.
func tagMap(tags []iamtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// DeleteProvider deletes an IAM OIDC provider (used to roll back one this run created).
func DeleteProvider(ctx context.Context, client IAMAPI, providerARN string) error {
	_, err := client.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
	return err
}

// AddClientID adds an audience to an existing provider's client IDs.
func AddClientID(ctx context.Context, client IAMAPI, providerARN, clientID string) error {
	if _, err := client.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(providerARN), ClientID: aws.String(clientID),
	}); err != nil {
		return fmt.Errorf("iam:AddClientIDToOpenIDConnectProvider %s: %w", providerARN, awsapi.Short(err))
	}
	return nil
}
