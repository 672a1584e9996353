package cluster

import "testing"

func TestResolve(t *testing.T) {
	tests := []struct {
		name             string
		flags            Ref
		context, cluster string
		exec             []string
		want             Ref
	}{
		{
			name:    "update-kubeconfig context ARN",
			context: "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
			want:    Ref{Name: "prod", Region: "eu-west-1", Account: "111122223333"},
		},
		{
			name:    "cluster ARN under a renamed context",
			context: "prod-admin", cluster: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/cn-1",
			want: Ref{Name: "cn-1", Region: "cn-north-1", Account: "111122223333"},
		},
		{
			name:    "aws eks get-token exec args",
			context: "prod",
			exec:    []string{"aws", "--region", "us-west-2", "eks", "get-token", "--cluster-name", "blue", "--output", "json"},
			want:    Ref{Name: "blue", Region: "us-west-2"},
		},
		{
			name: "aws-iam-authenticator exec args with =",
			exec: []string{"/usr/local/bin/aws-iam-authenticator", "token", "-i", "green", "--region=ap-south-1"},
			want: Ref{Name: "green", Region: "ap-south-1"},
		},
		{
			name:    "flags win over the kubeconfig",
			flags:   Ref{Name: "explicit", Region: "us-east-2"},
			context: "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
			want:    Ref{Name: "explicit", Region: "us-east-2", Account: "111122223333"},
		},
		{
			name:    "unrelated exec plugin and plain names",
			context: "kind-kind",
			exec:    []string{"gke-gcloud-auth-plugin", "--cluster-name", "x"},
			want:    Ref{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.flags, tt.context, tt.cluster, tt.exec)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
