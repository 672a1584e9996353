package logclass

// This file holds what the SDKs say, next to the rules that read it: the
// phrase lists the rules match (lowercase, on the normalised line) and
// sdkMessages, one row per SDK message with the finding id it leads to and
// the file where the SDK defines the text. The patterns are ours, written
// from those definitions; TestSDKMessages checks that every row's own
// sample line classifies to the row's id and contains the row's words.

// Pod Identity: the EKS Pod Identity Agent's container credentials
// endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), IPv4 and IPv6.
const (
	podIdentityHostV4 = "169.254.170.23"
	podIdentityHostV6 = "fd00:ec2::23"
)

// hostRefusedPhrases are how the container credential providers of SDKs
// that predate EKS Pod Identity refuse a full URI whose host is not one
// they know (loopback, 169.254.170.2).
var hostRefusedPhrases = []string{
	"only loopback hosts are allowed",                    // aws-sdk-go aws/defaults/defaults.go, older aws-sdk-go-v2 config/resolve_credentials.go
	"can only retrieve metadata from",                    // botocore utils.py ContainerMetadataFetcher
	"unsupported host",                                   // botocore, aws-sdk-php EcsCredentialProvider ("contains an unsupported host")
	"has an invalid host",                                // aws-sdk-java ContainerCredentialsProvider, aws-sdk-java-v2 ContainerCredentialsProvider
	"host can only be one of",                            // older aws-sdk-java ContainerCredentialsProvider
	"is not a valid container metadata service hostname", // aws-sdk-js-v3 credential-provider-imds fromContainerMetadata
	"unsupported hostname",                               // aws-sdk-js lib/credentials/remote_credentials.js
	"full uri contains an invalid host",                  // aws-sdk-net GenericContainerCredentials
	"did not refer to the loopback",                      // aws-config (Rust) ecs.rs InvalidFullUriError
	"did not refer to an allowed ip",                     // aws-config (Rust) ecs.rs
	"invalid endpoint host",                              // aws-sdk-go(-v2), with the host quoted
	"not a loopback",
}

// podIdentityDenied is EKS Auth's refusal as relayed by the agent and the
// SDKs' container providers ("Unauthorized Exception! EKS does not have
// permissions to assume the associated role"), followed by "to assume".
const podIdentityDenied = "eks does not have permission"

// noCredentialsStrong are the chain-exhausted and web-identity-skipped
// messages: no provider produced credentials, for a stated reason.
var noCredentialsStrong = []string{
	"nocredentialproviders", "no valid providers in chain", // aws-sdk-go aws/credentials/chain_provider.go
	"unable to locate credentials", "nocredentialserror", // botocore exceptions.py
	"could not load credentials from any providers", "credentialsprovidererror", // aws-sdk-js, aws-sdk-js-v3 credential-provider-node
	"unable to load aws credentials from any provider",         // aws-sdk-java AWSCredentialsProviderChain
	"unable to load credentials from any of the providers",     // aws-sdk-java-v2 AwsCredentialsProviderChain
	"missing credentials in config", "missingcredentialserror", // aws-sdk-js lib/config.js, aws-sdk-ruby / aws-sigv4
	"no ec2 imds role found", "ec2rolerequesterror", // aws-sdk-go-v2 ec2rolecreds, aws-sdk-go ec2rolecreds
	"the credential provider was not enabled", "no providers in chain provided credentials", "credentialsnotloaded", // aws-config (Rust)
	"unable to sign request without credentials",               // aws-sdk-ruby errors.rb
	"error retrieving credentials from the instance profile",   // aws-sdk-php InstanceProfileProvider
	"unable to get iam security credentials",                   // aws-sdk-net DefaultInstanceProfileAWSCredentials
	"static credentials are empty",                             // aws-sdk-go-v2 credentials/static_provider.go
	"you must specify a value for rolearn and rolesessionname", // aws-sdk-java STSAssumeRoleWithWebIdentitySessionCredentialsProvider
	"credentials provider timed out",                           // aws-credential-types (Rust) ProviderTimedOut
	"the credentials provider was not properly configured",
	"failed to resolve aws credentials",                        // aws-sdk-net FallbackCredentialsFactory
	"sts' service module must be on the class path",            // aws-sdk-java-v2 WebIdentityCredentialsUtils
	"aws-java-sdk-sts module must be on the class path",        // aws-sdk-java STSProfileCredentialsServiceLoader
	"awssdk.securitytoken could not be found",                  // aws-sdk-net AssumeRoleWithWebIdentityCredentials.CreateClient
	"or the javaproperty aws.webidentitytokenfile must be set", // aws-sdk-java-v2 WebIdentityTokenFileCredentialsProvider
	"no valid credential sources",                              // hashicorp/aws-sdk-go-base (Terraform AWS provider, S3 backend)
	"no aws credentials provided by",                           // hadoop-aws AWSCredentialProviderList (s3a)
	"couldn't find aws credentials",                            // rusoto credential ChainProvider
	"unable to retrieve token for use in imdsv2",               // aws-sdk-net EC2InstanceMetadata, botocore InstanceMetadataFetcher
	"ec2 metadata rolename request returned error",             // aws-sdk-js lib/metadata_service.js
	"error response received from instance metadata service",   // aws-sdk-js-v3 credential-provider-imds httpRequest
	"failed to retrieve imds token",                            // aws-sdk-java EC2MetadataUtils, aws-sdk-java-v2 InstanceProfileCredentialsProvider
	"ec2 metadata token request returned error",                // smithy-typescript credential-provider-imds fromInstanceMetadata.ts
	"ec2 metadata v1 fallback has been blocked",                // smithy-typescript credential-provider-imds InstanceMetadataV1FallbackError
	"missingcredentials",                                       // aws-sdk-rust (aws-sig-auth SigningStageErrorKind::MissingCredentials), aws-sdk-ruby MissingCredentialsError
	"no credentials in the property bag",                       // aws-sdk-rust aws-sig-auth middleware
}

// noCredentialsWeak name a failed credential fetch without saying why.
var noCredentialsWeak = []string{
	"failed to retrieve credentials", "failed to refresh cached credentials", // aws-sdk-go stscreds, aws-sdk-go-v2 credential_cache.go
	"an error occurred while loading credentials", "lacked valid authentication credentials", // aws-credential-types (Rust)
	"unable to load credentials from any", "unable to load credentials from service endpoint",
	"failed to load credentials from imds", "credentialsexception", "credentialserror:",
	"credentialretrievalerror",
	"error retrieving credential from ecs",                            // aws-sdk-php EcsCredentialProvider
	"error retrieving credentials from container metadata",            // aws-sdk-php EcsCredentialProvider (newer)
	"unable to reach credentials server",                              // aws-sdk-net URIBasedRefreshingCredentialHelper
	"unable to connect to instance metadata service",                  // aws-sdk-js-v3 credential-provider-imds httpRequest
	"failed to retrieve credentials for aws profile",                  // fluent-bit src/aws/flb_aws_credentials_profile.c
	"token file must be specified to use sts assumerole web identity", // aws-sdk-cpp STSCredentialsProvider
	"rolearn must be specified to use sts assumerole web identity",
	"web identity configuration not specified",         // aws-sdk-js-v3 credential-provider-web-identity fromTokenFile
	"failed to load credentials from metadata service", // aws-sdk-java-v2 internal/HttpCredentialsLoader.java
	"invalid response received from instance metadata", // smithy-typescript credential-provider-imds fromInstanceMetadata.ts
	"unable to contact ec2 metadata service",           // aws-sdk-net sdk/src/Core/Amazon.Util/EC2InstanceMetadata.cs (IMDSv2 token, then data)
	"ec2 metadata service returned unauthorized",       // aws-sdk-net EC2InstanceMetadata.cs (token based secure data flow)
}

// tokenUnreadablePhrases are the token-file read errors of the SDKs.
var tokenUnreadablePhrases = []string{
	"unable to read web identity token", "failed to read web identity token", "could not read web identity token",
	"cannot read web identity token", "error reading web identity token", "unable to locate specified web identity token",
	"unable to read file at", "failed to retrieve jwt from provide", "web identity token file does not exist",
	"web identity token file not found",
	"a token could not be loaded from the webidentitytokenfile", // aws-sdk-net AssumeRoleWithWebIdentityCredentials
	"error reading webidentitytokenfile",                        // aws-sdk-php AssumeRoleWithWebIdentityCredentialProvider
	"can't open token file",                                     // aws-sdk-cpp STSCredentialsProvider
}

// assumeWrapperPhrases wrap an STS failure of the web identity exchange
// without the STS answer on the same line.
var assumeWrapperPhrases = []string{
	"error calling assumerole for role",                 // aws-sdk-net AmazonSecurityTokenServiceClient (CredentialsFromAssumeRoleWithWebIdentityAuthentication)
	"error retrieving web identity credentials",         // aws-sdk-php AssumeRoleWithWebIdentityCredentialProvider
	"error assuming role from web identity credentials", // aws-sdk-php
}

// responseGarbled are the SDKs' words for a response they could not parse:
// for the web identity exchange, the request went to an endpoint that is
// not STS (an AWS_ENDPOINT_URL or a service endpoint override that leaked
// into the STS client, a proxy, a captive portal).
var responseGarbled = []string{
	"serializationerror", "failed to unmarshal", "unmarshalerror", "deserialization failed", "failed to decode response",
	"unable to parse response", "invalid xml received", "responseparsererror", "unable to unmarshall",
	"deserialization error", "unknownoperationexception", "invalidaction",
}

// The phrase lists as one-pass matchers (see phraseSet).
var (
	noCredentialsStrongSet = newPhraseSet(noCredentialsStrong)
	noCredentialsWeakSet   = newPhraseSet(noCredentialsWeak)
	tokenUnreadableSet     = newPhraseSet(tokenUnreadablePhrases)
	hostRefusedSet         = newPhraseSet(hostRefusedPhrases)
	responseGarbledSet     = newPhraseSet(responseGarbled)
	assumeWrapperSet       = newPhraseSet(assumeWrapperPhrases)
)

// nonSTSAnswers are error answers STS never gives to
// AssumeRoleWithWebIdentity (an unsigned call) but S3 and S3-compatible
// stores do.
var nonSTSAnswers = []string{"accessdenied: access denied", "(accessdenied) when calling the assumerolewithwebidentity operation: access denied",
	"signaturedoesnotmatch", "invalidaccesskeyid", "nosuchbucket", "nosuchkey", "methodnotallowed"}

var nonSTSAnswerSet = newPhraseSet(nonSTSAnswers)

// sdkMessage is one message an SDK or tool defines.
type sdkMessage struct {
	sdk    string // SDK family or tool
	words  string // the message's distinctive words as the rules look for them (lowercase)
	id     ID     // the finding it leads to (when nothing more specific is on the line)
	source string // repository/path where the text is defined
	sample string // a line of our own carrying the message
}

// sdkMessages: one row per SDK message. Tools (Terraform, external-secrets,
// Karpenter, cluster-autoscaler, Loki, Velero, Spark/Hadoop, Fluent Bit)
// print their SDK's texts inside their own; their rows name the tool.
var sdkMessages = []sdkMessage{
	// aws-sdk-go (v1).
	{"aws-sdk-go", "no valid providers in chain", NoCredentials, "aws/aws-sdk-go aws/credentials/chain_provider.go",
		`level=error msg="list hosted zones: NoCredentialProviders: no valid providers in chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"`},
	{"aws-sdk-go", "ec2rolerequesterror", NoCredentials, "aws/aws-sdk-go aws/credentials/ec2rolecreds/ec2_role_provider.go",
		`EC2RoleRequestError: no EC2 instance role found\ncaused by: EC2MetadataError: failed to make EC2Metadata request`},
	{"aws-sdk-go", "unable to read file at", TokenUnreadable, "aws/aws-sdk-go aws/credentials/stscreds/web_identity_provider.go",
		`WebIdentityErr: unable to read file at /var/run/secrets/eks.amazonaws.com/serviceaccount/token\ncaused by: open /var/run/secrets/eks.amazonaws.com/serviceaccount/token: no such file or directory`},
	{"aws-sdk-go", "serializationerror", RegionOrEndpoint, "aws/aws-sdk-go private/protocol/query/unmarshal_error.go",
		`WebIdentityErr: failed to retrieve credentials\ncaused by: SerializationError: failed to unmarshal error message\n\tstatus code: 403, request id: \ncaused by: UnmarshalError: failed to unmarshal error message`},
	{"aws-sdk-go", "only loopback hosts are allowed", PodIdentityOldSDK, "aws/aws-sdk-go aws/defaults/defaults.go",
		`2024/05/01 10:00:00 Ignoring, HTTP credential provider invalid endpoint host, "169.254.170.23", only loopback hosts are allowed. <nil>`},
	{"aws-sdk-go", "credentialsendpointerror", PodIdentityEndpointUnreachable, "aws/aws-sdk-go aws/credentials/endpointcreds/provider.go",
		`CredentialsEndpointError: failed to load credentials\ncaused by: RequestError: send request failed\ncaused by: Get "http://169.254.170.23/v1/credentials": dial tcp 169.254.170.23:80: connect: connection refused`},
	{"aws-sdk-go", "could not find region configuration", RegionOrEndpoint, "aws/aws-sdk-go aws/errors.go",
		`failed to create session: MissingRegion: could not find region configuration`},

	// aws-sdk-go-v2.
	{"aws-sdk-go-v2", "failed to refresh cached credentials", NoCredentials, "aws/aws-sdk-go-v2 aws/credential_cache.go",
		`operation error SQS: ReceiveMessage, get identity: get credentials: failed to refresh cached credentials, failed to load credentials, unexpected end of JSON input`},
	{"aws-sdk-go-v2", "no ec2 imds role found", NoCredentials, "aws/aws-sdk-go-v2 credentials/ec2rolecreds/provider.go",
		`failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, request canceled, context deadline exceeded`},
	{"aws-sdk-go-v2", "failed to retrieve jwt from provide", TokenUnreadable, "aws/aws-sdk-go-v2 credentials/stscreds/web_identity_provider.go",
		`get credentials: failed to refresh cached credentials, failed to retrieve jwt from provide source, unable to read file at /var/run/secrets/eks.amazonaws.com/serviceaccount/token: permission denied`},
	{"aws-sdk-go-v2", "only loopback hosts are allowed", PodIdentityOldSDK, "aws/aws-sdk-go-v2 config/resolve_credentials.go",
		`failed to load AWS config: invalid endpoint host, "169.254.170.23", only loopback hosts are allowed`},
	{"aws-sdk-go-v2", "failed to load credentials", PodIdentityEndpointUnreachable, "aws/aws-sdk-go-v2 credentials/endpointcreds/provider.go",
		`get identity: get credentials: failed to refresh cached credentials, failed to load credentials, operation error CredentialsEndpoint: GetCredentials, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Get "http://169.254.170.23/v1/credentials": dial tcp 169.254.170.23:80: i/o timeout`},
	{"aws-sdk-go-v2", "deserialization failed", RegionOrEndpoint, "aws/aws-sdk-go-v2 service/sts/deserializers.go",
		`operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, RequestID: , deserialization failed, failed to decode response body, unexpected EOF`},
	{"aws-sdk-go-v2", "accessdenied: access denied", RegionOrEndpoint, "S3/MinIO error answer to the STS call (aws-sdk-go-v2 service/sts/deserializers.go relays it)",
		`operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, RequestID: 17C1A2B3C4D5E6F7, HostID: dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8, api error AccessDenied: Access Denied.`},
	{"aws-sdk-go-v2", "eks does not have permissions to assume", PodIdentityDenied, "aws/eks-pod-identity-agent (EKS Auth AssumeRoleForPodIdentity AccessDeniedException)",
		`failed to refresh cached credentials, failed to load credentials, operation error CredentialsEndpoint: GetCredentials, https response error StatusCode: 400, RequestID: , AccessDeniedException: Unauthorized Exception! EKS does not have permissions to assume the associated role.`},

	// botocore / boto3 / aws-cli.
	{"botocore", "unable to locate credentials", NoCredentials, "boto/botocore botocore/exceptions.py NoCredentialsError",
		`botocore.exceptions.NoCredentialsError: Unable to locate credentials`},
	{"botocore", "can only retrieve metadata from", PodIdentityOldSDK, "boto/botocore botocore/utils.py ContainerMetadataFetcher",
		`ValueError: Unsupported host '169.254.170.23'.  Can only retrieve metadata from these hosts: 169.254.170.2, localhost, 127.0.0.1`},
	{"botocore", "retrieve container metadata", PodIdentityEndpointUnreachable, "boto/botocore botocore/utils.py ContainerMetadataFetcher, botocore/credentials.py ContainerProvider",
		`botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from container-role: Error retrieving metadata: Received error when attempting to retrieve container metadata: Could not connect to the endpoint URL: "http://169.254.170.23/v1/credentials"`},
	{"botocore", "eks does not have permissions to assume", PodIdentityDenied, "boto/botocore botocore/utils.py (non 200 response from container metadata)",
		`Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: [0f3c]: (AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume the associated role., fault: client`},
	{"botocore", "unable to retrieve token for use in imdsv2", NoCredentials, "boto/botocore botocore/utils.py IMDSFetcher",
		`botocore.exceptions.MetadataRetrievalError: Error retrieving metadata: Unable to retrieve token for use in IMDSv2 call and IMDSv1 has been disabled`},
	{"aws-cli", "unable to locate credentials", NoCredentials, "aws/aws-cli (botocore NoCredentialsError)",
		`Unable to locate credentials. You can configure credentials by running "aws configure".`},

	// aws-sdk-java (v1).
	{"aws-sdk-java", "aws-java-sdk-sts module must be on the class path", NoCredentials, "aws/aws-sdk-java aws-java-sdk-core/src/main/java/com/amazonaws/auth/profile/internal/securitytoken/STSProfileCredentialsServiceLoader.java",
		`com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain: [EnvironmentVariableCredentialsProvider: Unable to load AWS credentials from environment variables, WebIdentityTokenCredentialsProvider: To use assume role profiles the aws-java-sdk-sts module must be on the class path., com.amazonaws.auth.profile.ProfileCredentialsProvider@3d8c: profile file cannot be null]`},
	{"aws-sdk-java", "has an invalid host", PodIdentityOldSDK, "aws/aws-sdk-java aws-java-sdk-core/src/main/java/com/amazonaws/auth/ContainerCredentialsProvider.java",
		`com.amazonaws.SdkClientException: The full URI (http://169.254.170.23/v1/credentials) contained withing environment variable AWS_CONTAINER_CREDENTIALS_FULL_URI has an invalid host. Host can only be one of [localhost, 127.0.0.1]`},
	// The exception does not name the host ("Failed to connect to service
	// endpoint: " and the cause); only the debug log of the retry does.
	{"aws-sdk-java", "failed to connect to service endpoint", NoCredentials, "aws/aws-sdk-java aws-java-sdk-core/src/main/java/com/amazonaws/internal/EC2ResourceFetcher.java",
		`com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain: [WebIdentityTokenCredentialsProvider: You must specify a value for roleArn and roleSessionName, com.amazonaws.auth.EC2ContainerCredentialsProviderWrapper@2f1f: Failed to connect to service endpoint: ]`},
	{"aws-sdk-java", "ioexception occurred when connecting to service endpoint", PodIdentityEndpointUnreachable, "aws/aws-sdk-java aws-java-sdk-core/src/main/java/com/amazonaws/internal/EC2ResourceFetcher.java",
		`DEBUG com.amazonaws.internal.EC2ResourceFetcher - An IOException occurred when connecting to service endpoint: http://169.254.170.23/v1/credentials\n Retrying to connect again.`},
	{"aws-sdk-java", "unable to load aws credentials from any provider", NoCredentials, "aws/aws-sdk-java aws-java-sdk-core/src/main/java/com/amazonaws/auth/AWSCredentialsProviderChain.java",
		`com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain`},

	// aws-sdk-java-v2.
	{"aws-sdk-java-v2", "sts' service module must be on the class path", NoCredentials, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/internal/WebIdentityCredentialsUtils.java",
		`software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[WebIdentityTokenCredentialsProvider(), ContainerCredentialsProvider()]) : [WebIdentityTokenCredentialsProvider(): To use web identity tokens, the 'sts' service module must be on the class path., ContainerCredentialsProvider(): Cannot fetch credentials from container - neither AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI environment variables are set.]`},
	{"aws-sdk-java-v2", "or the javaproperty aws.webidentitytokenfile must be set", NoCredentials, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/WebIdentityTokenFileCredentialsProvider.java",
		`java.lang.IllegalStateException: Either the environment variable AWS_WEB_IDENTITY_TOKEN_FILE or the javaproperty aws.webIdentityTokenFile must be set.`},
	{"aws-sdk-java-v2", "has an invalid host", PodIdentityOldSDK, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/ContainerCredentialsProvider.java",
		`software.amazon.awssdk.core.exception.SdkClientException: The full URI (http://169.254.170.23/v1/credentials) contained within environment variable AWS_CONTAINER_CREDENTIALS_FULL_URI has an invalid host. Host should resolve to a loopback address or have the full URI be HTTPS.`},
	{"aws-sdk-java-v2", "failed to load credentials from metadata service", NoCredentials, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/internal/HttpCredentialsLoader.java",
		`software.amazon.awssdk.core.exception.SdkClientException: Failed to load credentials from metadata service.`},
	{"aws-sdk-java-v2", "failed to retrieve imds token", NoCredentials, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/InstanceProfileCredentialsProvider.java",
		`software.amazon.awssdk.core.exception.SdkClientException: Failed to retrieve IMDS token, and fallback to IMDS v1 is disabled via the aws.disableEc2MetadataV1 system property, AWS_EC2_METADATA_V1_DISABLED environment variable, or ec2_metadata_v1_disabled configuration file profile setting.`},
	{"aws-sdk-java-v2", "unable to load credentials from any of the providers", NoCredentials, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/AwsCredentialsProviderChain.java",
		`software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[InstanceProfileCredentialsProvider()]) : [InstanceProfileCredentialsProvider(): Failed to load credentials from IMDS.]`},

	// aws-sdk-js (v2).
	{"aws-sdk-js", "missing credentials in config", NoCredentials, "aws/aws-sdk-js lib/config.js",
		`CredentialsError: Missing credentials in config, if using AWS_CONFIG_FILE, set AWS_SDK_LOAD_CONFIG=1`},
	{"aws-sdk-js", "could not load credentials from any providers", NoCredentials, "aws/aws-sdk-js lib/credentials/credential_provider_chain.js",
		`Error: Could not load credentials from any providers at /app/node_modules/aws-sdk/lib/credentials/credential_provider_chain.js:111:23`},
	{"aws-sdk-js", "ec2 metadata rolename request returned error", NoCredentials, "aws/aws-sdk-js lib/metadata_service.js",
		`CredentialsError: EC2 Metadata roleName request returned error at Timeout.connectTimeout [as _onTimeout] (/app/node_modules/aws-sdk/lib/http/node.js:69:15)`},
	{"aws-sdk-js", "unsupported hostname", PodIdentityOldSDK, "aws/aws-sdk-js lib/credentials/remote_credentials.js",
		`ECSCredentialsProviderFailure: Unsupported hostname: AWS.RemoteCredentials only supports localhost,127.0.0.1 for http; http://169.254.170.23 requested.`},

	// aws-sdk-js-v3 (and smithy-typescript, where its providers moved).
	{"aws-sdk-js-v3", "credentialsprovidererror", NoCredentials, "aws/aws-sdk-js-v3 packages/credential-provider-node/src/defaultProvider.ts",
		`CredentialsProviderError: Could not load credentials from any providers at providerChain (/app/node_modules/@smithy/property-provider/dist-cjs/index.js:150:11)`},
	{"aws-sdk-js-v3", "error response received from instance metadata service", NoCredentials, "smithy-lang/smithy-typescript packages/credential-provider-imds/src/remoteProvider/httpRequest.ts",
		`ProviderError: Error response received from instance metadata service at ClientRequest.<anonymous> (/app/node_modules/@smithy/credential-provider-imds/dist-cjs/index.js:90:25)`},
	{"aws-sdk-js-v3", "web identity configuration not specified", NoCredentials, "aws/aws-sdk-js-v3 packages/credential-provider-web-identity/src/fromTokenFile.ts",
		`CredentialsProviderError: Web identity configuration not specified at fromTokenFile (/app/node_modules/@aws-sdk/credential-provider-web-identity/dist-cjs/fromTokenFile.js:14:15)`},
	{"aws-sdk-js-v3", "ec2 metadata token request returned error", NoCredentials, "smithy-lang/smithy-typescript packages/credential-provider-imds/src/fromInstanceMetadata.ts",
		`ProviderError: EC2 Metadata token request returned error at ClientRequest.<anonymous> (/app/node_modules/@smithy/credential-provider-imds/dist-cjs/index.js:94:25) { statusCode: 400 }`},
	{"aws-sdk-js-v3", "ec2 metadata v1 fallback has been blocked", NoCredentials, "smithy-lang/smithy-typescript packages/credential-provider-imds/src/error/InstanceMetadataV1FallbackError.ts",
		`InstanceMetadataV1FallbackError: AWS EC2 Metadata v1 fallback has been blocked by AWS SDK configuration in the following: [process environment variable (AWS_EC2_METADATA_V1_DISABLED)].`},
	{"aws-sdk-js-v3", "is not a valid container metadata service hostname", PodIdentityOldSDK, "aws/aws-sdk-js-v3 packages/credential-provider-imds/src/fromContainerMetadata.ts",
		`CredentialsProviderError: 169.254.170.23 is not a valid container metadata service hostname`},
	{"aws-sdk-js-v3", "unable to connect to instance metadata service", PodIdentityEndpointUnreachable, "smithy-lang/smithy-typescript packages/credential-provider-imds/src/remoteProvider/httpRequest.ts",
		`ProviderError: Unable to connect to instance metadata service at ClientRequest.<anonymous> errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '169.254.170.23', port: 80`},

	// aws-sdk-net (.NET).
	{"aws-sdk-net", "awssdk.securitytoken could not be found", NoCredentials, "aws/aws-sdk-net sdk/src/Core/Amazon.Runtime/Credentials/AssumeRoleWithWebIdentityCredentials.cs",
		`System.InvalidOperationException: Assembly AWSSDK.SecurityToken could not be found or loaded. This assembly must be available at runtime to use Amazon.Runtime.AssumeRoleAWSCredentials.`},
	{"aws-sdk-net", "failed to resolve aws credentials", NoCredentials, "aws/aws-sdk-net sdk/src/Core/Amazon.Runtime/Credentials/FallbackCredentialsFactory.cs",
		`Amazon.Runtime.AmazonClientException: Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: Exception 1 of 4: The environment variables AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN/AWS_ROLE_SESSION_NAME were not set with AWS credentials.`},
	{"aws-sdk-net", "unable to retrieve token for use in imdsv2", NoCredentials, "aws/aws-sdk-net sdk/src/Core/Amazon.Util/EC2InstanceMetadata.cs",
		`System.InvalidOperationException: Unable to retrieve token for use in IMDSv2. ---> System.Net.Http.HttpRequestException: A connection attempt failed because the connected party did not properly respond after a period of time (169.254.169.254:80)`},
	{"aws-sdk-net", "a token could not be loaded from the webidentitytokenfile", TokenUnreadable, "aws/aws-sdk-net sdk/src/Core/Amazon.Runtime/Credentials/AssumeRoleWithWebIdentityCredentials.cs",
		`System.InvalidOperationException: A token could not be loaded from the WebIdentityTokenFile. ---> System.UnauthorizedAccessException: Access to the path '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' is denied.`},
	{"aws-sdk-net", "error calling assumerole for role", TrustRejected, "aws/aws-sdk-net sdk/src/Services/SecurityToken/Custom/AmazonSecurityTokenServiceClient.Extension.cs",
		`Amazon.Runtime.AmazonClientException: Error calling AssumeRole for role arn:aws:iam::123456789012:role/orders-api`},
	{"aws-sdk-net", "unable to reach credentials server", PodIdentityEndpointUnreachable, "aws/aws-sdk-net sdk/src/Core/Amazon.Runtime/Credentials/URIBasedRefreshingCredentialHelper.cs",
		`Amazon.Runtime.AmazonServiceException: Unable to reach credentials server ---> System.Net.Http.HttpRequestException: Connection refused (169.254.170.23:80)`},

	// aws-sdk-ruby.
	{"aws-sdk-ruby", "unable to sign request without credentials", NoCredentials, "aws/aws-sdk-ruby gems/aws-sdk-core/lib/aws-sdk-core/errors.rb",
		`Aws::Errors::MissingCredentialsError: unable to sign request without credentials set`},
	{"aws-sdk-ruby", "missing a required claim: aud", BadAudience, "aws/aws-sdk-ruby gems/aws-sdk-core/lib/aws-sdk-sts/errors.rb (InvalidIdentityToken, STS message)",
		`Aws::STS::Errors::InvalidIdentityToken: Missing a required claim: aud`},
	{"aws-sdk-ruby", "failed to open tcp connection", PodIdentityEndpointUnreachable, "aws/aws-sdk-ruby gems/aws-sdk-core/lib/aws-sdk-core/ecs_credentials.rb",
		`Aws::ECSCredentials failed: Errno::ECONNREFUSED: Failed to open TCP connection to 169.254.170.23:80 (Connection refused - connect(2) for "169.254.170.23" port 80)`},

	// aws-sdk-php.
	{"aws-sdk-php", "error retrieving credentials from the instance profile", NoCredentials, "aws/aws-sdk-php src/Credentials/InstanceProfileProvider.php",
		`Aws\Exception\CredentialsException: Error retrieving credentials from the instance profile metadata service. (cURL error 28: Operation timed out after 1000 milliseconds)`},
	{"aws-sdk-php", "contains an unsupported host", PodIdentityOldSDK, "aws/aws-sdk-php src/Credentials/EcsCredentialProvider.php",
		`InvalidArgumentException: Uri 'http://169.254.170.23/v1/credentials' contains an unsupported host.`},
	{"aws-sdk-php", "error retrieving credential from ecs", PodIdentityEndpointUnreachable, "aws/aws-sdk-php src/Credentials/EcsCredentialProvider.php",
		`Aws\Exception\CredentialsException: Error retrieving credential from ECS (cURL error 7: Failed to connect to 169.254.170.23 port 80: Connection refused)`},
	{"aws-sdk-php", "error retrieving web identity credentials", InvalidRoleARN, "aws/aws-sdk-php src/Credentials/AssumeRoleWithWebIdentityCredentialProvider.php",
		`Aws\Exception\CredentialsException: Error retrieving web identity credentials: Found 1 error while validating the input provided for the AssumeRoleWithWebIdentity operation: [RoleArn] is missing and is a required parameter (0)`},
	{"aws-sdk-php", "error reading webidentitytokenfile", TokenUnreadable, "aws/aws-sdk-php src/Credentials/AssumeRoleWithWebIdentityCredentialProvider.php",
		`Aws\Exception\CredentialsException: Error reading WebIdentityTokenFile from /var/run/secrets/eks.amazonaws.com/serviceaccount/token`},

	// aws-sdk-rust (aws-config, aws-credential-types; smithy-rs).
	{"aws-sdk-rust", "no providers in chain provided credentials", NoCredentials, "smithy-lang/smithy-rs aws/rust-runtime/aws-config/src/meta/credentials/chain.rs",
		`Error: failed to construct request: CredentialsNotLoaded(CredentialsNotLoaded { source: "no providers in chain provided credentials" })`},
	{"aws-sdk-rust", "an error occurred while loading credentials", NoCredentials, "smithy-lang/smithy-rs aws/rust-runtime/aws-credential-types/src/provider/error.rs",
		`ERROR s3_sync: dispatch failure: an error occurred while loading credentials`},
	{"aws-sdk-rust", "did not refer to the loopback", PodIdentityOldSDK, "smithy-lang/smithy-rs aws/rust-runtime/aws-config/src/ecs.rs",
		`WARN aws_config::meta::credentials::chain: provider failed to provide credentials provider="EcsContainer" error=the credentials provider was not properly configured: URI did not refer to the loopback interface`},

	// rusoto.
	{"rusoto", "couldn't find aws credentials", NoCredentials, "rusoto/rusoto rusoto/credential/src/lib.rs",
		`Error: Credentials(CredentialsError { message: "Couldn't find AWS credentials in environment, credentials file, or IAM role." })`},

	// aws-sdk-cpp.
	{"aws-sdk-cpp", "token file must be specified to use sts assumerole web identity", NoCredentials, "aws/aws-sdk-cpp src/aws-cpp-sdk-core/source/auth/STSCredentialsProvider.cpp",
		`[WARN] 2024-05-01 10:00:00.000 STSAssumeRoleWithWebIdentityCredentialsProvider [140123] Token file must be specified to use STS AssumeRole web identity creds provider.`},
	{"aws-sdk-cpp", "can't open token file", TokenUnreadable, "aws/aws-sdk-cpp src/aws-cpp-sdk-core/source/auth/STSCredentialsProvider.cpp",
		`[ERROR] 2024-05-01 10:00:00.000 STSAssumeRoleWithWebIdentityCredentialsProvider [140123] Can't open token file: /var/run/secrets/eks.amazonaws.com/serviceaccount/token`},

	// Tools.
	{"terraform-provider-aws", "no valid credential sources", NoCredentials, "hashicorp/aws-sdk-go-base errors.go (NoValidCredentialSourcesError)",
		`│ Error: configuring Terraform AWS Provider: no valid credential sources for Terraform AWS Provider found.`},
	{"hadoop-s3a", "no aws credentials provided by", NoCredentials, "apache/hadoop hadoop-tools/hadoop-aws/src/main/java/org/apache/hadoop/fs/s3a/AWSCredentialProviderList.java",
		`org.apache.hadoop.fs.s3a.auth.NoAuthWithAWSException: No AWS Credentials provided by TemporaryAWSCredentialsProvider SimpleAWSCredentialsProvider EnvironmentVariableCredentialsProvider IAMInstanceCredentialsProvider`},
	{"fluent-bit", "failed to retrieve credentials for aws profile", NoCredentials, "fluent/fluent-bit src/aws/flb_aws_credentials_profile.c",
		`[2024/05/01 10:00:00] [error] [aws_credentials] Failed to retrieve credentials for AWS Profile default`},
	{"eks-pod-identity-agent", "assumeroleforpodidentity", PodIdentityDenied, "aws/eks-pod-identity-agent (Error fetching credentials ... EKS Auth)",
		`{"level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 400, RequestID: 1a2b, AccessDeniedException: Unauthorized Exception! EKS does not have permissions to assume the associated role.","operation":"AssumeRoleForPodIdentity"}`},
	{"eks-pod-identity-agent", "eks-auth:assumeroleforpodidentity", PodIdentityDenied, "EKS Auth AccessDeniedException for the node role (IAM authorization message)",
		`unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 403, RequestID: 9c8d, api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123def4567890 is not authorized to perform: eks-auth:AssumeRoleForPodIdentity on resource: arn:aws:eks:us-east-1:123456789012:cluster/prod`},
	// The EKS Pod Identity Agent's own log (logrus JSON), the network to it, and the association APIs.
	{"eks-pod-identity-agent", "context canceled", PodIdentityEKSAuthUnreachable, "aws/eks-pod-identity-agent pkg/errors/errors.go (HandleCredentialFetchingError), internal/cloud/eksauth/service.go",
		`{"client-addr":"10.10.5.179:53244","cluster-name":"qa","level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 0, RequestID: , canceled, context canceled","operation":"AssumeRoleForPodIdentity","service":"EKS Auth"}`},
	{"eks-pod-identity-agent", "unable to start server", PodIdentityAgentNotListening, "aws/eks-pod-identity-agent pkg/server/server.go (ListenUntilContextCancelled)",
		`{"bind-addr":"169.254.170.23:80","level":"fatal","msg":"Unable to start server: listen tcp 169.254.170.23:80: bind: cannot assign requested address"}`},
	{"eks-pod-identity-agent", "failed probe", PodIdentityAgentNotListening, "aws/eks-pod-identity-agent pkg/handlers/probe_handler.go",
		`{"client-addr":"127.0.0.1:43708","level":"warning","msg":"Failed probe: Get \"http://169.254.170.23:80\": context deadline exceeded"}`},
	{"eks-pod-identity-agent", "internalservererror: get", PodIdentityAgentNotListening, "aws/eks-pod-identity-agent pkg/handlers/probe_handler.go (HandleProbe)",
		`{"client-addr":"127.0.0.1:48922","level":"error","msg":"InternalServerError: Get \"http://169.254.170.23:80\": context canceled"}`},
	{"eks-pod-identity-agent", "service account token cannot be empty", PodIdentityTokenEmpty, "aws/eks-pod-identity-agent internal/validation/request.go (validateToken)",
		`{"client-addr":"10.0.1.5:40000","level":"error","msg":"Error fetching credentials: Service account token cannot be empty"}`},
	{"eks-pod-identity-agent", "service account token cannot be parsed", PodIdentityTokenEmpty, "aws/eks-pod-identity-agent internal/validation/request.go (validateToken)",
		`{"client-addr":"10.0.1.5:40000","level":"error","msg":"Error fetching credentials: Service account token cannot be parsed: token is malformed: could not base64 decode header"}`},
	{"eks-pod-identity-agent", "failed basic claim validations", PodIdentityTokenExpired, "aws/eks-pod-identity-agent internal/validation/request.go (validateToken, golang-jwt 'token is expired')",
		`{"client-addr":"10.0.1.5:40000","level":"error","msg":"Error fetching credentials: Service account token failed basic claim validations: token has invalid claims: token is expired"}`},
	{"eks-pod-identity-agent", "expiredtokenexception", PodIdentityTokenExpired, "aws/eks-pod-identity-agent internal/cloud/eksauth/errors.go (EKS Auth ExpiredTokenException)",
		`{"level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 400, RequestID: 5d1e, ExpiredTokenException: The token included in the request is expired"}`},
	{"eks-pod-identity-agent", "resourcenotfoundexception", PodIdentityAssociationRefused, "aws/eks-pod-identity-agent internal/cloud/eksauth/errors.go (EKS Auth ResourceNotFoundException)",
		`{"level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 404, RequestID: 77aa, ResourceNotFoundException: association not found"}`},
	{"cilium-hubble", "policy denied", PodIdentityBlockedByNetworkPolicy, "cilium/cilium pkg/monitor/api/drop.go (drop reason 133 \"Policy denied\", printed by hubble observe)",
		`Dec  5 09:12:01.442: shop/web-5d8f (ID:5120) <> 169.254.170.23:80 (world) Policy denied DROPPED (TCP Flags: SYN)`},
	{"secrets-store-csi-provider-aws", "endpoint attempt failed", PodIdentityEndpointUnreachable, "aws/secrets-store-csi-driver-provider-aws credential_provider/pod_identity_credential_provider.go",
		`W0527 16:24:25.831530       1 pod_identity_credential_provider.go:96] IPv6 endpoint attempt failed: HTTP request to pod identity agent failed: Get "http://[fd00:ec2::23]/v1/credentials": dial tcp [fd00:ec2::23]:80: connect: network is unreachable`},

	// The Pod Identity token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) as the SDKs read it.
	{"aws-sdk-go", "failed to read authorization token", PodIdentityTokenMissing, "aws/aws-sdk-go aws/defaults/defaults.go (httpCredProvider)",
		`CredentialsEndpointError: failed to load credentials\ncaused by: failed to read authorization token from /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: open /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: no such file or directory`},
	{"aws-sdk-go-v2", "failed to read authorization token", PodIdentityTokenMissing, "aws/aws-sdk-go-v2 config/resolve_credentials.go (resolveHTTPCredProvider)",
		`get credentials: failed to refresh cached credentials, failed to load credentials, failed to read authorization token from /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: open /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: permission denied`},
	{"aws-sdk-java-v2", "failed to read authorization token", PodIdentityTokenMissing, "aws/aws-sdk-java-v2 core/auth/src/main/java/software/amazon/awssdk/auth/credentials/ContainerCredentialsProvider.java",
		`software.amazon.awssdk.core.exception.SdkClientException: Failed to read authorization token from '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token': no such file or directory`},
	{"aws-sdk-php", "failed to read authorization token", PodIdentityTokenMissing, "aws/aws-sdk-php src/Credentials/EcsCredentialProvider.php",
		`Aws\Exception\CredentialsException: Failed to read authorization token from '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token': no such file or directory.`},
	{"aws-sdk-php", "token file is empty", PodIdentityTokenEmpty, "aws/aws-sdk-php src/Credentials/EcsCredentialProvider.php",
		`Aws\Exception\CredentialsException: Invalid authorization token read from ` + "`/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token`" + `. Token file is empty!`},
	{"aws-sdk-ruby", "tokenfilereaderror", PodIdentityTokenMissing, "aws/aws-sdk-ruby gems/aws-sdk-core/lib/aws-sdk-core/ecs_credentials.rb",
		`Aws::ECSCredentials::TokenFileReadError: Failed to read authorization token from /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token: Permission denied @ rb_sysopen - /var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token`},
	{"botocore", "service account token cannot be empty", PodIdentityTokenEmpty, "boto/botocore botocore/utils.py ContainerMetadataFetcher._get_response (relays the agent's 400 answer)",
		`Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: Service account token cannot be empty`},
	{"botocore", "eks-pod-identity-token", PodIdentityTokenMissing, "boto/botocore botocore/credentials.py ContainerProvider._build_headers (open of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)",
		`PermissionError: [Errno 13] Permission denied: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token'`},
	{"aws-sdk-rust", "auth token could not be used as an http header value", PodIdentityTokenEmpty, "smithy-lang/smithy-rs aws/rust-runtime/aws-config/src/ecs.rs (EcsConfigurationError::InvalidAuthToken)",
		`provider failed to provide credentials provider="EcsContainer" error=the credentials provider was not properly configured: the auth token could not be used as an HTTP header value. failed to parse header value`},
	{"aws-sdk-js-v3", "eks-pod-identity-token", PodIdentityTokenMissing, "aws/aws-sdk-js-v3 packages/credential-provider-http/src/fromHttp/fromHttp.ts (readFile of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)",
		`Error: EACCES: permission denied, open '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token'`},

	// IRSA-era wordings read since issue 23.
	{"aws-sdk-rust", "missingcredentials", NoCredentials, "smithy-lang/smithy-rs aws/rust-runtime/aws-sig-auth/src/middleware.rs (SigningStageErrorKind::MissingCredentials)",
		`Error: ConstructionFailure(ConstructionFailure { source: SigningStageError { kind: MissingCredentials } })`},
	{"aws-sdk-net", "unable to contact ec2 metadata service", NoCredentials, "aws/aws-sdk-net sdk/src/Core/Amazon.Util/EC2InstanceMetadata.cs (FetchApiToken)",
		`[Amazon.Util.EC2InstanceMetadata|ERROR] Unable to contact EC2 Metadata service to obtain a metadata token. --> System.Net.Http.HttpRequestException: Connection timed out (169.254.169.254:80)`},
	{"aws-cli", "createpodidentityassociation", PodIdentityAssociationRefused, "EKS CreatePodIdentityAssociation error answers (InvalidParameterException, ResourceInUseException) as botocore prints them",
		`An error occurred (InvalidParameterException) when calling the CreatePodIdentityAssociation operation: Trust policy of the role provided is invalid.`},
	{"terraform-provider-aws", "createpodidentityassociation", PodIdentityAssociationRefused, "hashicorp/terraform-provider-aws internal/service/eks/pod_identity_association.go (wraps the EKS error)",
		`│ Error: creating EKS Pod Identity Association (prod/default/app): operation error EKS: CreatePodIdentityAssociation, https response error StatusCode: 409, RequestID: 1a, ResourceInUseException: Association already exists: a-0abc1def2ghi3jkl4`},
	{"STS (all SDKs)", "encoded authorization failure message", PermissionMissing, "EC2 UnauthorizedOperation answer (the caller and action only in the encoded message)",
		`api error UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: Zx9AbC`},
	{"STS (all SDKs)", "explicit deny in a service control policy", PermissionMissing, "IAM authorization failure message (AccessDenied/UnauthorizedOperation)",
		`api error UnauthorizedOperation: You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/karpenter-controller/1700000000000000000 is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* with an explicit deny in a service control policy. Encoded authorization failure message: AbC`},
	{"STS (all SDKs)", "explicit deny in a permissions boundary", PermissionMissing, "IAM authorization failure message (AccessDenied)",
		`AccessDenied: User: arn:aws:sts::123456789012:assumed-role/reports-irsa/botocore-session-1700000000 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::reports/x" with an explicit deny in a permissions boundary`},
	{"STS (all SDKs)", "because no permissions boundary allows", PermissionMissing, "IAM authorization failure message (AccessDenied)",
		`AccessDenied: User: arn:aws:sts::123456789012:assumed-role/reports-irsa/botocore-session-1700000000 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::reports/x" because no permissions boundary allows the s3:PutObject action`},
}
