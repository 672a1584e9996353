package logclass

import (
	"strings"
)

// sdkWords are the case-sensitive words detectSDK looks for, found in one
// pass over the line (sdkWordSet); detectSDK's switch decides in order.
var sdkWords = []string{
	"software.amazon.awssdk", ".awssdk.services.", "awssdk.core.exception", "(Service: ", ", Status Code: ",
	"com.amazonaws.", "; Status Code: ", "botocore", "boto3", "aws-cli", "A client error (", "upload failed: ",
	"download failed: ", "An error occurred (", ") when calling the ", "Amazon.Runtime", "Amazon.SecurityToken",
	"AWSSDK.", "Aws::", `Aws\`, "(client): ", "(server): ", "AWS HTTP error", `Error executing "`, "aws_sdk_",
	"aws_config", "aws_smithy", "aws-smithy", "dispatch failure", "DispatchFailure", "CredentialsNotLoaded",
	"an error occurred while loading credentials", "the credential provider was not enabled", "@aws-sdk/",
	"@smithy/", "CredentialsProviderError", "deserializeAws_", "$metadata", "$fault", "aws-sdk/lib",
	"aws-sdk/clients", "Missing credentials in config", "CredentialsError", "Could not load credentials from any providers",
	`The "path" argument`, "operation error ", "https response error StatusCode", "api error ",
	"get identity: get credentials", "failed to refresh cached credentials", "no EC2 IMDS role found",
	"failed to resolve service endpoint", "exceeded maximum number of attempts", "status code: ", "request id: ",
	"NoCredentialProviders", "WebIdentityErr", "MissingRegion", "RequestError: send request failed",
	"CredentialsChainVerboseErrors", "EC2RoleRequestError",
	// Tools and SDKs added with the SDK message table.
	"rusoto", "aws-sdk-cpp", "aws-cpp-sdk", "Aws::Auth", "Aws::Client", "AWSClient [", "CredentialsProvider [",
	"Terraform AWS Provider", "terraform-provider-aws", "org.apache.hadoop.fs.s3a", "[aws_credentials]", "flb_aws",
	"from EKS Auth", "EKS Auth to fetch", "CredentialsError { message", "'sts' service module", "javaproperty aws.",
	"aws-java-sdk-sts module", "Ignoring, HTTP credential provider", "AWS.RemoteCredentials", "ECSCredentialsProviderFailure",
	"Can only retrieve metadata from", "from container-role", " ---> System.", " ---> Amazon.", "contains an unsupported host",
	"ProviderError: ",
}

var sdkWordSet = newPhraseSet(sdkWords) // matched as written: case-sensitive

// maxSDKWords bounds len(sdkWords) (TestSDKWords checks it).
const maxSDKWords = 128

// detectSDK names the AWS SDK or tool visible in s, or "".
func detectSDK(s string) string {
	// The words found, each once: usually none or a few, so has compares
	// each of its words with those only.
	var seen [maxSDKWords]bool
	var found [maxSDKWords]uint8
	n := 0
	sdkWordSet.each(s, func(k int) {
		if !seen[k] {
			seen[k] = true
			found[n] = uint8(k)
			n++
		}
	})
	has := func(subs ...string) bool {
		for _, k := range found[:n] {
			for _, w := range subs {
				if sdkWords[k] == w {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has("from EKS Auth", "EKS Auth to fetch"):
		return "eks-pod-identity-agent"
	case has("Terraform AWS Provider", "terraform-provider-aws"):
		return "terraform-provider-aws"
	case has("org.apache.hadoop.fs.s3a"):
		return "hadoop-s3a"
	case has("[aws_credentials]", "flb_aws"):
		return "fluent-bit"
	case has("rusoto", "CredentialsError { message"):
		return "rusoto"
	case has("aws-sdk-cpp", "aws-cpp-sdk", "Aws::Auth", "Aws::Client", "AWSClient [") ||
		has("CredentialsProvider [") && !has("Aws::"):
		return "aws-sdk-cpp"
	case has("software.amazon.awssdk", ".awssdk.services.", "awssdk.core.exception", "'sts' service module", "javaproperty aws."),
		has("(Service: ") && has(", Status Code: "):
		return "aws-sdk-java-v2"
	case has("com.amazonaws.", "aws-java-sdk-sts module"), has("(Service: ") && has("; Status Code: "):
		return "aws-sdk-java"
	case has("botocore", "boto3", "Can only retrieve metadata from", "from container-role"):
		return "boto3"
	case has("aws-cli", "A client error (", "upload failed: ", "download failed: "), strings.HasPrefix(s, "fatal error: "):
		return "aws-cli"
	case has("An error occurred (") && has(") when calling the "):
		return "boto3"
	case has("Amazon.Runtime", "Amazon.SecurityToken", "AWSSDK.", " ---> System.", " ---> Amazon."), hasNetNamespace(s):
		return "aws-sdk-net"
	case has("Aws::"):
		return "aws-sdk-ruby"
	case has(`Aws\`, "(client): ", "(server): ", "AWS HTTP error", `Error executing "`, "contains an unsupported host"):
		return "aws-sdk-php"
	case has("aws_sdk_", "aws_config", "aws_smithy", "aws-smithy", "dispatch failure", "DispatchFailure",
		"CredentialsNotLoaded", "an error occurred while loading credentials", "the credential provider was not enabled"):
		return "aws-sdk-rust"
	case has("@aws-sdk/", "@smithy/", "CredentialsProviderError", "deserializeAws_", "$metadata", "$fault", "ProviderError: "):
		return "aws-sdk-js-v3"
	case has("aws-sdk/lib", "aws-sdk/clients", "Missing credentials in config", "CredentialsError", "AWS.RemoteCredentials",
		"ECSCredentialsProviderFailure",
		"Could not load credentials from any providers", `The "path" argument`):
		return "aws-sdk-js"
	case has("operation error ", "https response error StatusCode", "api error ", "get identity: get credentials",
		"failed to refresh cached credentials", "no EC2 IMDS role found", "failed to resolve service endpoint",
		"exceeded maximum number of attempts"):
		return "aws-sdk-go-v2"
	case has("status code: ") && has("request id: "),
		has("NoCredentialProviders", "WebIdentityErr", "MissingRegion", "RequestError: send request failed",
			"CredentialsChainVerboseErrors", "EC2RoleRequestError", "Ignoring, HTTP credential provider"):
		return "aws-sdk-go"
	}
	return ""
}
