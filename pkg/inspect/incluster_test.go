package inspect

import (
	"testing"
	"time"
)

func TestBuildTestJob(t *testing.T) {
	job := BuildTestJob("irsa-sample-ns", "irsa-test", "amazon/aws-cli:latest", nil, time.Unix(1700000000, 0))
	spec := job.Spec.Template.Spec
	switch {
	case job.Namespace != "irsa-sample-ns" || spec.ServiceAccountName != "irsa-test":
		t.Errorf("job runs as %s/%s", job.Namespace, spec.ServiceAccountName)
	case *job.Spec.BackoffLimit != 0 || job.Spec.TTLSecondsAfterFinished == nil || spec.RestartPolicy != "Never":
		t.Errorf("retry/cleanup settings: %+v", job.Spec)
	case spec.Containers[0].Image != "amazon/aws-cli:latest" || spec.Containers[0].Args[0] != "sts" || spec.Containers[0].Args[1] != "get-caller-identity":
		t.Errorf("container = %+v", spec.Containers[0])
	case job.Labels[TestJobLabel] != "irsa-test" || spec.Containers[0].Env != nil:
		t.Errorf("labels %v env %v", job.Labels, spec.Containers[0].Env)
	}
	custom := BuildTestJob("ns", "a-very-long-service-account-name-that-goes-on-and-on", "img", []string{"eks", "list-clusters"}, time.Now())
	if custom.Spec.Template.Spec.Containers[0].Args[1] != "list-clusters" || len(custom.Name) > 63 {
		t.Errorf("custom job %s %v", custom.Name, custom.Spec.Template.Spec.Containers[0].Args)
	}
}

func TestJudgeJobLogs(t *testing.T) {
	tests := []struct {
		name, logs, verdict, finding string
	}{
		{"expected role", `{"UserId": "AROA:botocore-session-1", "Account": "123456789012", "Arn": "arn:aws:sts::123456789012:assumed-role/irsa-role/botocore-session-1700000000"}`, VerdictPass, ""},
		{"node role", `{"Arn": "arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123def4567890"}`, VerdictFail, "NodeRoleFallback"},
		{"another pod role", `{"Arn": "arn:aws:sts::123456789012:assumed-role/other-role/botocore-session-1"}`, VerdictFail, "RoleMismatch"},
		{"trust rejected", "\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n", VerdictFail, "TrustRejected"},
		{"node role denied", "An error occurred (AccessDeniedException) when calling the ListClusters operation: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123def4567890 is not authorized to perform: eks:ListClusters", VerdictFail, "NodeRoleFallback"},
		{"nothing useful", "hello\n", VerdictFail, "NoResult"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdict, _, findings := JudgeJobLogs(tt.logs, "irsa-role")
			if verdict != tt.verdict {
				t.Errorf("verdict = %s", verdict)
			}
			if tt.finding != "" && (len(findings) == 0 || findings[0].ID != tt.finding) {
				t.Errorf("findings = %+v, want %s", findings, tt.finding)
			}
		})
	}
}
