package logclass

import (
	"strings"
	"testing"
)

// unseenCase is a log line written for these tests, modelled on how an SDK
// or tool words the error (not copied from the corpus). want "" means no
// finding may be returned. The optional fields are checked when set.
type unseenCase struct {
	name string
	line string
	want ID
	// Expected fields, checked when not "".
	sdk, conf, caller, account, role, session, action, resource string
	nodeRoles                                                   []string
}

var unseen = []unseenCase{
	// NodeRoleFallback: the denied caller is the instance profile.
	{name: "go-v2 route53 node role", want: NodeRoleFallback, sdk: "aws-sdk-go-v2", conf: "high",
		line:    `operation error Route 53: ListHostedZones, https response error StatusCode: 403, RequestID: 5c6b8a7e-1f2d-4c1e-9a8b-0d2f3e4a5b6c, api error AccessDenied: User: arn:aws:sts::111122223333:assumed-role/eks-node-group-role-20240101/i-0a1b2c3d4e5f67890 is not authorized to perform: route53:ListHostedZones because no identity-based policy allows the route53:ListHostedZones action`,
		account: "111122223333", role: "eks-node-group-role-20240101", session: "i-0a1b2c3d4e5f67890", action: "route53:ListHostedZones"},
	{name: "boto3 karpenter node role", want: NodeRoleFallback, sdk: "boto3", conf: "high",
		line:   `botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:sts::111122223333:assumed-role/KarpenterNodeRole-prod/i-0123456789abcdef0 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::ml-models/v3/model.bin" because no identity-based policy allows the s3:GetObject action`,
		caller: "arn:aws:sts::111122223333:assumed-role/KarpenterNodeRole-prod/i-0123456789abcdef0", action: "s3:GetObject", resource: "arn:aws:s3:::ml-models/v3/model.bin"},
	{name: "java-v2 gov partition", want: NodeRoleFallback, sdk: "aws-sdk-java-v2", conf: "high",
		line:    `software.amazon.awssdk.services.dynamodb.model.DynamoDbException: User: arn:aws-us-gov:sts::123456789012:assumed-role/gov-eks-worker/i-0fedcba9876543210 is not authorized to perform: dynamodb:PutItem on resource: arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/orders (Service: DynamoDb, Status Code: 400, Request ID: ABCD1234EFGH5678IJKL9012MNOP3456QRSTUVWXYZ)`,
		account: "123456789012", role: "gov-eks-worker", action: "dynamodb:PutItem", resource: "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/orders"},
	{name: "js-v3 china partition json", want: NodeRoleFallback, sdk: "aws-sdk-js-v3",
		line:    `{"level":50,"time":1714550400000,"msg":"get secret failed","err":{"type":"AccessDeniedException","message":"User: arn:aws-cn:sts::123456789012:assumed-role/cn-eks-nodes/i-0123abcd4567ef890 is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/db because no identity-based policy allows the secretsmanager:GetSecretValue action","$fault":"client","$metadata":{"httpStatusCode":400}}}`,
		account: "123456789012", session: "i-0123abcd4567ef890", resource: "prod/db"},
	{name: ".NET eksctl node role", want: NodeRoleFallback, sdk: "aws-sdk-net",
		line: `Amazon.S3.AmazonS3Exception: User: arn:aws:sts::123456789012:assumed-role/eksctl-shop-nodegroup-ng-a-NodeInstanceRole-1ABC2DEF3GHI/i-0b1c2d3e4f5a6b7c8 is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::shop-assets" because no identity-based policy allows the s3:ListBucket action ---> Amazon.Runtime.Internal.HttpErrorResponseException`,
		role: "eksctl-shop-nodegroup-ng-a-NodeInstanceRole-1ABC2DEF3GHI", resource: "arn:aws:s3:::shop-assets"},
	{name: "ruby kops nodes role", want: NodeRoleFallback, sdk: "aws-sdk-ruby",
		line: `Aws::SQS::Errors::AccessDenied: User: arn:aws:sts::123456789012:assumed-role/nodes.k8s.example.com/i-0abcdef1234567890 is not authorized to perform: sqs:ReceiveMessage on resource: arn:aws:sqs:eu-west-1:123456789012:jobs`,
		role: "nodes.k8s.example.com", action: "sqs:ReceiveMessage", resource: "arn:aws:sqs:eu-west-1:123456789012:jobs"},
	{name: "klog redacted instance id", want: NodeRoleFallback, conf: "high",
		line:    `E0101 12:00:00.000000       1 instances.go:100] failed to describe instances: AccessDenied: User: arn:aws:sts::XXXXXXXXXXXX:assumed-role/XXXXXXXX-NodeInstanceRole-XXXXXXXX/i-XXXXXXXXXXXXXXXXX is not authorized to perform: ec2:DescribeInstances`,
		account: "XXXXXXXXXXXX", session: "i-XXXXXXXXXXXXXXXXX", action: "ec2:DescribeInstances"},
	{name: "node role from cluster state", want: NodeRoleFallback, conf: "high", nodeRoles: []string{"prod-eks-ng"},
		line: `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/prod-eks-ng/3f2a9c1d is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:events`,
		role: "prod-eks-ng", session: "3f2a9c1d"},
	{name: "node-like name only", want: NodeRoleFallback, conf: "low",
		line: `AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/eks-worker-nodes-role/xxxxxxxx is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
		role: "eks-worker-nodes-role", action: "kms:Decrypt"},
	{name: "ansi coloured", want: NodeRoleFallback,
		line:   "\x1b[31mERROR\x1b[0m \x1b[1mAccessDenied\x1b[0m: User: arn:aws:sts::123456789012:assumed-role/eks-node/i-0123456789abcdef0 is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::logs/app.gz",
		action: "s3:PutObject", resource: "arn:aws:s3:::logs/app.gz"},

	// PermissionMissing: the pod's own role was used.
	{name: "boto3 irsa session", want: PermissionMissing, sdk: "boto3", conf: "high",
		line: `botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1700000000 is not authorized to perform: secretsmanager:GetSecretValue on resource: payments/db-credentials because no identity-based policy allows the secretsmanager:GetSecretValue action`,
		role: "payments-api-irsa", session: "botocore-session-1700000000", action: "secretsmanager:GetSecretValue", resource: "payments/db-credentials"},
	{name: "go-v2 pod identity session on worker-named role", want: PermissionMissing, sdk: "aws-sdk-go-v2",
		line: `operation error SQS: SendMessage, https response error StatusCode: 400, RequestID: 0b8e6c2a-77f1-5e63-a4c9-3f1d2b8e9a01, api error AccessDenied: User: arn:aws:sts::111122223333:assumed-role/orders-worker-role/eks-prod-orders-wo-5f1b2c3d-aaaa-bbbb-cccc-0123456789ab is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:111122223333:orders because no identity-based policy allows the sqs:sendmessage action`,
		role: "orders-worker-role", action: "sqs:sendmessage"},
	{name: "java v1 irsa session", want: PermissionMissing, sdk: "aws-sdk-java",
		line:    `com.amazonaws.services.s3.model.AmazonS3Exception: User: arn:aws:sts::123456789012:assumed-role/spark-irsa-role/aws-sdk-java-1700000000000 is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::datalake" because no identity-based policy allows the s3:ListBucket action (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 1A2B3C4D5E6F7G8H; S3 Extended Request ID: abc=; Proxy: null)`,
		session: "aws-sdk-java-1700000000000", resource: "arn:aws:s3:::datalake"},
	{name: "js-v3 json escaped stack", want: PermissionMissing, sdk: "aws-sdk-js-v3",
		line:     `{"level":"error","message":"AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/web-bff/aws-sdk-js-1700000000000 is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/sessions/index/byUser because no identity-based policy allows the dynamodb:Query action\n    at throwDefaultError (/app/node_modules/@smithy/smithy-client/dist-cjs/index.js:838:20)"}`,
		resource: "arn:aws:dynamodb:eu-west-1:123456789012:table/sessions/index/byUser"},
	{name: "aws-cli ci runner", want: PermissionMissing,
		line:   `An error occurred (AccessDenied) when calling the ListBuckets operation: User: arn:aws:sts::123456789012:assumed-role/ci-runner-irsa/botocore-session-1699999999 is not authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the s3:ListAllMyBuckets action`,
		action: "s3:ListAllMyBuckets"},
	{name: "php json body", want: PermissionMissing, sdk: "aws-sdk-php",
		line: `Error executing "GetSecretValue" on "https://secretsmanager.eu-west-1.amazonaws.com"; AWS HTTP error: Client error: ` + "`POST https://secretsmanager.eu-west-1.amazonaws.com`" + ` resulted in a ` + "`400 Bad Request`" + ` response: {"__type":"AccessDeniedException","Message":"User: arn:aws:sts::123456789012:assumed-role/laravel-app/1700000000123456789 is not authorized to perform: secretsmanager:GetSecretValue on resource: laravel/prod because no identity-based policy allows the secretsmanager:GetSecretValue action"} AccessDeniedException (client)`,
		role: "laravel-app", session: "1700000000123456789", resource: "laravel/prod"},
	{name: "kms key policy", want: PermissionMissing,
		line:   `AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/vault-unseal/1700000000000000000 is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action`,
		action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	{name: "caller denied AssumeRoleWithWebIdentity", want: TrustRejected,
		line:   `User: arn:aws:sts::123456789012:assumed-role/app/botocore-session-1 is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: arn:aws:iam::123456789012:role/other`,
		action: "sts:AssumeRoleWithWebIdentity", resource: "arn:aws:iam::123456789012:role/other"},

	// TrustRejected.
	{name: "java-v2 sts", want: TrustRejected, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.services.sts.model.StsException: Not authorized to perform sts:AssumeRoleWithWebIdentity (Service: Sts, Status Code: 403, Request ID: 8c2f1a3e-2b4d-4e6f-8a1b-3c5d7e9f0a2b)`},
	{name: "js-v3 sts", want: TrustRejected, sdk: "aws-sdk-js-v3",
		line: `AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity    at de_AccessDeniedRes (/app/node_modules/@aws-sdk/client-sts/dist-cjs/index.js:362:21)`},
	{name: ".NET sts", want: TrustRejected, sdk: "aws-sdk-net",
		line: `Amazon.SecurityToken.AmazonSecurityTokenServiceException: Not authorized to perform sts:AssumeRoleWithWebIdentity ---> Amazon.Runtime.Internal.HttpErrorResponseException: Exception of type 'Amazon.Runtime.Internal.HttpErrorResponseException' was thrown.`},
	{name: "ruby sts", want: TrustRejected, sdk: "aws-sdk-ruby",
		line: `Aws::STS::Errors::AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`},
	{name: "rust sts", want: TrustRejected, sdk: "aws-sdk-rust",
		line: `2024-05-01T10:00:00.000Z WARN aws_config::web_identity_token: failed to load credentials: service error: unhandled error (AccessDenied): Not authorized to perform sts:AssumeRoleWithWebIdentity`},

	// NoOIDCProvider.
	{name: "boto3 no oidc", want: NoOIDCProvider, sdk: "boto3",
		line:     `botocore.errorfactory.InvalidIdentityTokenException: An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: No OpenIDConnect provider found in your account for https://oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF`,
		resource: "https://oidc.eks.eu-central-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"},
	{name: "go-v2 no oidc", want: NoOIDCProvider, sdk: "aws-sdk-go-v2",
		line: `failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: 1b2c3d4e-0000-1111-2222-333344445555, InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789`},
	{name: "java-v2 no oidc", want: NoOIDCProvider, sdk: "aws-sdk-java-v2",
		line:     `software.amazon.awssdk.services.sts.model.InvalidIdentityTokenException: No OpenIDConnect provider found in your account for https://oidc.eks.ap-south-1.amazonaws.com/id/1234ABCD (Service: Sts, Status Code: 400, Request ID: 6e1f)`,
		resource: "https://oidc.eks.ap-south-1.amazonaws.com/id/1234ABCD"},

	// BadAudience.
	{name: "go v1 audience in json", want: BadAudience, sdk: "aws-sdk-go",
		line: `{"level":"error","msg":"unable to get credentials","error":"WebIdentityErr: failed to retrieve credentials\ncaused by: InvalidIdentityToken: Incorrect token audience\n\tstatus code: 400, request id: 0f6e8d1c-1111-2222-3333-444455556666"}`},
	{name: "js-v3 audience", want: BadAudience,
		line: `InvalidIdentityTokenException: Incorrect token audience`},

	// Thumbprint.
	{name: "boto3 thumbprint", want: Thumbprint, sdk: "boto3",
		line: `An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint`},

	// TokenExpired.
	{name: "go v1 web identity token expired", want: TokenExpired, conf: "high",
		line: `WebIdentityErr: failed to retrieve credentials\ncaused by: ExpiredTokenException: Token expired: current date/time 1700000500 must be before the expiration date/time 1700000000\n\tstatus code: 400, request id: 4d3c2b1a`},
	{name: "java-v2 s3 provided token expired", want: TokenExpired, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.services.s3.model.S3Exception: The provided token has expired. (Service: S3, Status Code: 400, Request ID: 9ZX8Y7W6V5U4T3S2)`},
	{name: "boto3 expired token", want: TokenExpired, sdk: "boto3",
		line: `botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the ListObjectsV2 operation: The provided token has expired.`},

	// TokenUnreadable.
	{name: "node EACCES", want: TokenUnreadable,
		line: `Error: EACCES: permission denied, open '/var/run/secrets/eks.amazonaws.com/serviceaccount/token'`},
	{name: "java nio", want: TokenUnreadable,
		line: `Caused by: java.nio.file.AccessDeniedException: /var/run/secrets/eks.amazonaws.com/serviceaccount/token`},
	{name: "go-v2 jwt file missing", want: TokenUnreadable, sdk: "aws-sdk-go-v2",
		line: `operation error S3: ListObjectsV2, get identity: get credentials: failed to refresh cached credentials, failed to retrieve jwt from provide source, unable to read file at /var/run/secrets/eks.amazonaws.com/serviceaccount/token: open /var/run/secrets/eks.amazonaws.com/serviceaccount/token: no such file or directory`},
	{name: "python FileNotFoundError", want: TokenUnreadable,
		line: `FileNotFoundError: [Errno 2] No such file or directory: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token'`},
	{name: "ruby EACCES", want: TokenUnreadable,
		line: `Errno::EACCES: Permission denied @ rb_sysopen - /var/run/secrets/eks.amazonaws.com/serviceaccount/token`},

	// NoCredentials.
	{name: "boto3 no credentials", want: NoCredentials, sdk: "boto3", conf: "high",
		line: `botocore.exceptions.NoCredentialsError: Unable to locate credentials`},
	{name: "java v1 chain", want: NoCredentials, sdk: "aws-sdk-java",
		line: `com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain: [EnvironmentVariableCredentialsProvider: Unable to load AWS credentials from environment variables (AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) and AWS_SECRET_KEY (or AWS_SECRET_ACCESS_KEY)), SystemPropertiesCredentialsProvider: Unable to load AWS credentials from Java system properties (aws.accessKeyId and aws.secretKey), WebIdentityTokenCredentialsProvider: You must specify a value for roleArn and roleSessionName, com.amazonaws.auth.profile.ProfileCredentialsProvider@6b2fad11: profile file cannot be null, com.amazonaws.auth.EC2ContainerCredentialsProviderWrapper@79698539: Failed to connect to service endpoint: ]`},
	{name: "js-v3 provider chain", want: NoCredentials, sdk: "aws-sdk-js-v3",
		line: `CredentialsProviderError: Could not load credentials from any providers`},
	{name: ".NET imds", want: NoCredentials, sdk: "aws-sdk-net",
		line: `Amazon.Runtime.AmazonServiceException: Unable to get IAM security credentials from EC2 Instance Metadata Service.`},
	{name: "ruby missing credentials", want: NoCredentials, sdk: "aws-sdk-ruby",
		line: `Aws::Sigv4::Errors::MissingCredentialsError: missing credentials, provide credentials with one of the following options: - :access_key_id and :secret_access_key - :credentials - :credentials_provider`},
	{name: "php instance profile", want: NoCredentials, sdk: "aws-sdk-php",
		line: `Aws\Exception\CredentialsException: Error retrieving credentials from the instance profile metadata service. (cURL error 28: Connection timed out after 1001 milliseconds)`},
	{name: "rust debug", want: NoCredentials, sdk: "aws-sdk-rust",
		line: `Error: DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None), source: CredentialsNotLoaded(CredentialsNotLoaded { source: Some("no providers in chain provided credentials") }), connection: Unknown } })`},
	{name: "go v1 verbose chain with imds timeout", want: NoCredentials, sdk: "aws-sdk-go",
		line: `NoCredentialProviders: no valid providers in chain\ncaused by: EnvAccessKeyNotFound: failed to find credentials in the environment.\nSharedCredsLoad: failed to load profile, .\nEC2RoleRequestError: no EC2 instance role found\ncaused by: RequestError: send request failed\ncaused by: Get "http://169.254.169.254/latest/meta-data/iam/security-credentials/": dial tcp 169.254.169.254:80: i/o timeout`},
	{name: "go-v2 static credentials empty", want: NoCredentials, sdk: "aws-sdk-go-v2",
		line: `operation error S3: GetObject, get identity: get credentials: failed to refresh cached credentials, static credentials are empty`},
	{name: ".NET resolve credentials", want: NoCredentials, sdk: "aws-sdk-net",
		line: `Amazon.Runtime.AmazonClientException: Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: Exception 1 of 3: Unable to find credentials: Environment variables were not set.`},
	{name: "rust display chain", want: NoCredentials, sdk: "aws-sdk-rust",
		line: `Error: dispatch failure: other: the credential provider was not enabled: no providers in chain provided credentials`},
	{name: "php message only", want: NoCredentials,
		line: `[2024-05-01 10:00:00] production.ERROR: Error retrieving credentials from the instance profile metadata service. (cURL error 7: Failed to connect to 169.254.169.254 port 80: Connection refused)`},
	{name: "botocore container provider", want: PodIdentityEndpointUnreachable, sdk: "boto3", resource: "169.254.170.23",
		line: `botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from container-role: Error retrieving metadata: Received error when attempting to retrieve container metadata: Connect timeout on endpoint URL: "http://169.254.170.23/v1/credentials"`},
	{name: "js sts dns", want: RegionOrEndpoint,
		line:     `Error: getaddrinfo ENOTFOUND sts.eu-west-1.amazonaws.com at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)`,
		resource: "sts.eu-west-1.amazonaws.com"},
	{name: "js v2 missing credentials message only", want: NoCredentials,
		line: `Missing credentials in config, if using AWS_CONFIG_FILE, set AWS_SDK_LOAD_CONFIG=1`},

	// InvalidRoleARN.
	{name: "boto3 validation", want: InvalidRoleARN, sdk: "boto3",
		line: `An error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: Request ARN is invalid`},
	{name: "go-v2 roleArn pattern", want: InvalidRoleARN, sdk: "aws-sdk-go-v2",
		line: `operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: 2a3b, api error ValidationError: 1 validation error detected: Value 'arn:aws:iam::123456789012:role/ ' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`},
	{name: "java-v2 roleArn length", want: InvalidRoleARN, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.services.sts.model.StsException: 1 validation error detected: Value 'my-role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20 (Service: Sts, Status Code: 400, Request ID: 77aa)`},

	// RegionOrEndpoint.
	{name: "boto3 no region", want: RegionOrEndpoint, sdk: "boto3",
		line: `botocore.exceptions.NoRegionError: You must specify a region.`},
	{name: "java-v2 region chain", want: RegionOrEndpoint, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.core.exception.SdkClientException: Unable to load region from any of the providers in the chain software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain@1a2b3c4d: [software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider@5e6f: Unable to load region from system settings.]`},
	{name: "js-v3 region missing", want: RegionOrEndpoint,
		line: `Error: Region is missing`},
	{name: "go-v2 sts dns", want: RegionOrEndpoint, sdk: "aws-sdk-go-v2", conf: "high",
		line:     `operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "https://sts.eu-west-1.amazonaws.com/": dial tcp: lookup sts.eu-west-1.amazonaws.com on 172.20.0.10:53: no such host`,
		resource: "sts.eu-west-1.amazonaws.com"},
	{name: "botocore endpoint connection", want: RegionOrEndpoint, sdk: "boto3",
		line:     `botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "https://sts.us-east-1.amazonaws.com/"`,
		resource: "sts.us-east-1.amazonaws.com"},
	{name: "java v1 unknown host", want: RegionOrEndpoint, sdk: "aws-sdk-java",
		line: `com.amazonaws.SdkClientException: Unable to execute HTTP request: sts.amazonaws.com: Name or service not known`},
	{name: "wrong region host", want: RegionOrEndpoint, conf: "medium",
		line:     `failed to fetch secret: RequestError: send request failed caused by: Post "https://secretsmanager.us-east1.amazonaws.com/": dial tcp: lookup secretsmanager.us-east1.amazonaws.com: no such host`,
		resource: "secretsmanager.us-east1.amazonaws.com"},
	{name: ".NET no region endpoint", want: RegionOrEndpoint, sdk: "aws-sdk-net",
		line: `Amazon.Runtime.AmazonClientException: No RegionEndpoint or ServiceURL configured`},
	{name: "ruby missing region", want: RegionOrEndpoint, sdk: "aws-sdk-ruby",
		line: `Aws::Errors::MissingRegionError: No region was provided. Configure the :region option or export the region name to ENV['AWS_REGION']`},

	// EKS Pod Identity.
	{name: "go-v2 pod identity agent refused", want: PodIdentityEndpointUnreachable, sdk: "aws-sdk-go-v2", resource: "169.254.170.23",
		line: `operation error S3: ListBuckets, get identity: get credentials: failed to refresh cached credentials, failed to load credentials, operation error CredentialsEndpoint: GetCredentials, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Get "http://169.254.170.23/v1/credentials": dial tcp 169.254.170.23:80: connect: connection refused`},
	{name: "aws-cli pod identity denied", want: PodIdentityDenied, conf: "high",
		line: `Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: [4d1e]: (AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume the associated role., fault: client`},
	// The EKS Pod Identity Agent's own log, the network to it, the pod's token, the association APIs.
	{name: "agent eks auth deadline", want: PodIdentityEKSAuthUnreachable, conf: "high",
		line: `{"client-addr":"10.2.7.14:51220","cluster-name":"hybrid","level":"error","msg":"Error fetching credentials: error getting credentials to cache: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://eks-auth.us-west-2.api.aws/clusters/hybrid/assume-role-for-pod-identity\": dial tcp 3.5.1.2:443: i/o timeout","operation":"AssumeRoleForPodIdentity","service":"EKS Auth","time":"2025-08-21T01:46:45Z"}`},
	{name: "agent ipv6 bind", want: PodIdentityAgentNotListening,
		line: `{"bind-addr":"[fd00:ec2::23]:80","level":"fatal","msg":"Unable to start server: listen tcp [fd00:ec2::23]:80: bind: cannot assign requested address","time":"2024-10-07T12:13:53Z"}`},
	{name: "hubble drop to agent", want: PodIdentityBlockedByNetworkPolicy, resource: "169.254.170.23",
		line: `Dec  5 09:12:01.442: payments/api-7c9f6d-x2k8q:41876 (ID:5120) <> 169.254.170.23:80 (world) Policy denied DROPPED (TCP Flags: SYN)`},
	{name: "java v2 pod identity token file", want: PodIdentityTokenMissing, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.core.exception.SdkClientException: Failed to read authorization token from '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token': no such file or directory`},
	{name: "agent empty token", want: PodIdentityTokenEmpty,
		line: `{"client-addr":"10.0.4.9:38812","cluster-name":"prod","level":"error","msg":"Error fetching credentials: Service account token cannot be empty","time":"2025-01-10T08:00:00Z"}`},
	{name: "agent token claims expired", want: PodIdentityTokenExpired,
		line: `{"client-addr":"10.0.4.9:38812","cluster-name":"prod","level":"error","msg":"Error fetching credentials: Service account token failed basic claim validations: token has invalid claims: token is expired","time":"2025-01-10T08:00:00Z"}`},
	{name: "association trust invalid", want: PodIdentityAssociationRefused,
		line: `An error occurred (InvalidParameterException) when calling the CreatePodIdentityAssociation operation: Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.`},
	{name: "agent routine cache drop", line: `{"level":"info","msg":"Could not renew, will try to keep existing creds. Error is recoverable: unable to fetch credentials from EKS Auth: operation error EKS Auth: AssumeRoleForPodIdentity, https response error StatusCode: 0, RequestID: , canceled, context canceled","time":"2025-01-10T08:00:00Z"}`},
	{name: "ecs task role endpoint", line: `Unable to start server: listen tcp 169.254.170.2:80: bind: address already in use`},
	{name: "go v1 pod identity host refused", want: PodIdentityOldSDK, sdk: "aws-sdk-go",
		line: `NoCredentialProviders: no valid providers in chain
caused by: EnvAccessKeyNotFound: failed to find credentials in the environment.
CredentialsEndpointError: invalid endpoint host, "169.254.170.23", only loopback hosts are allowed.`},

	// StaticCredentials.
	{name: "go v1 iam user", want: StaticCredentials, sdk: "aws-sdk-go", conf: "high",
		line:    `AccessDenied: User: arn:aws:iam::123456789012:user/ci-deployer is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-east-1:123456789012:cluster/prod\n\tstatus code: 403, request id: 5e4d`,
		account: "123456789012", action: "eks:DescribeCluster", resource: "arn:aws:eks:us-east-1:123456789012:cluster/prod"},
	{name: "boto3 iam user", want: StaticCredentials, sdk: "boto3",
		line:   `An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::123456789012:user/legacy-app is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::uploads/x.png" because no identity-based policy allows the s3:PutObject action`,
		caller: "arn:aws:iam::123456789012:user/legacy-app"},
	{name: "java-v2 iam user with path", want: StaticCredentials, sdk: "aws-sdk-java-v2",
		line: `software.amazon.awssdk.services.sqs.model.SqsException: User: arn:aws:iam::123456789012:user/service-accounts/reporting is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:123456789012:reports (Service: Sqs, Status Code: 403, Request ID: 1f)`},

	// None: look-alikes where no IRSA credential failure can be claimed.
	{name: "app access denied", line: `2024-05-01T10:00:00Z WARN access denied for user alice: invalid password`},
	{name: "s3 access denied without caller", line: `botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied`},
	{name: "java s3 403 without caller", line: `software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: 4Q2W3E4R5T6Y7U8I)`},
	{name: "signature mismatch", line: `An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.`},
	{name: "invalid client token id", line: `InvalidClientTokenId: The security token included in the request is invalid.\n\tstatus code: 403, request id: 6c5b`},
	{name: "unrecognized client", line: `UnrecognizedClientException: The security token included in the request is invalid.`},
	{name: "kubernetes rbac", line: `E0501 10:00:00.000000       1 reflector.go:138] failed to list *v1.Secret: secrets is forbidden: User "system:serviceaccount:default:app" cannot list resource "secrets" in API group "" in the namespace "default"`},
	{name: "ec2 unauthorized operation", want: PermissionMissing, conf: "medium", line: `UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: 4NfYk3Xq...\n\tstatus code: 403, request id: 9f8e`},
	{name: "explicit deny scp", want: PermissionMissing, conf: "medium", role: "app-role", action: "s3:DeleteBucket", line: `AccessDenied: User: arn:aws:sts::123456789012:assumed-role/app-role/botocore-session-1 is not authorized to perform: s3:DeleteBucket on resource: "arn:aws:s3:::prod" with an explicit deny in a service control policy`},
	{name: "sso human session", line: `An error occurred (AccessDenied) when calling the DescribeCluster operation: User: arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/jane.doe@example.com is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:eu-west-1:123456789012:cluster/prod`},
	{name: "ecs task session", line: `AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/reports-Task-1ABCDEF/0123456789abcdef0123456789abcdef is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:q`},
	{name: "sso token expired on a laptop", line: `Error when retrieving token from sso: Token has expired and refresh failed`},
	{name: "kubernetes service account token expired", line: `E0501 10:00:00.000000       1 authentication.go:73] "Unable to authenticate the request" err="[invalid bearer token, service account token has expired]"`},
	{name: "plain s3 url", line: `time="2024-05-01T10:00:00Z" level=info msg="Fetching object from https://assets.s3.eu-west-1.amazonaws.com/app.tar.gz"`},
	{name: "region field", line: `{"level":"info","msg":"using region","region":"us-east-1","endpoint":"https://sts.us-east-1.amazonaws.com"}`},
	{name: "region info", line: `INFO AWS Region: us-east-1, STS endpoint: https://sts.us-east-1.amazonaws.com`},
	{name: "credentials retrieved", line: `INFO Successfully retrieved credentials from WebIdentityTokenCredentialsProvider, expires 2024-05-01T11:00:00Z`},
	{name: "credentials refreshed", line: `level=info msg="Refreshing AWS credentials" provider=WebIdentityCredentials expiresAt="2024-05-01T11:00:00Z"`},
	{name: "docker credential helper", line: `error getting credentials - err: exit status 1, out: no credentials server URL`},
	{name: "clock skew", line: `RequestTimeTooSkewed: The difference between the request time and the current time is too large.`},
	{name: "app not authorized", line: `WARN Not authorized to view this page: missing role admin`},
	{name: "iam user placeholders", line: `AccessDenied: User: arn:aws:iam::$ACCOUNT_ID:user/$USER is not authorized to perform: s3:ListBucket`},
	{name: "anonymous caller", line: `User: anonymous is not authorized to perform: es:ESHttpGet because no resource-based policy allows the es:ESHttpGet action`},
	{name: "service linked role", line: `User: arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling is not authorized to perform: kms:CreateGrant on resource: arn:aws:kms:us-east-1:123456789012:key/abc`},
	{name: "cluster role trust", line: `An error occurred (InvalidParameterException) when calling the CreateCluster operation: Role with arn: arn:aws:iam::123456789012:role/eks-cluster, could not be assumed because it does not exist or the trusted entity is not correct`},
	{name: "k8s token path read fine", line: `I0501 10:00:00.000000       1 main.go:20] reading token from /var/run/secrets/eks.amazonaws.com/serviceaccount/token`},
	{name: "k8s default sa token denied", line: `open /var/run/secrets/kubernetes.io/serviceaccount/token: permission denied`},
	{name: "validation error unrelated", line: `An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id prod does not exist`},
	{name: "expired certificate", line: `x509: certificate has expired or is not yet valid: current time 2024-05-01T10:00:00Z is after 2024-04-30T00:00:00Z`},
	{name: "region word in message", line: `INFO Region eu-west-1 selected for bucket replication`},
	{name: "credential provider info", line: `level=info msg="using credential provider" provider=WebIdentityTokenProvider role=arn:aws:iam::123456789012:role/app`},
	{name: "credentials refreshed from cache", line: `DEBUG Refreshing cached credentials, 300s before expiry`},
	{name: "oauth token expired in app", line: `WARN upstream OAuth access token expired, refreshing`},
	{name: "aws region configured", line: `INFO AWS region us-east-1 configured from AWS_REGION`},
	{name: "successfully assumed role", line: `INFO Assumed role arn:aws:iam::123456789012:role/app via AssumeRoleWithWebIdentity, credentials expire at 2024-05-01T11:00:00Z`},
}

func TestUnseenLines(t *testing.T) {
	ids := map[ID]int{}
	none := 0
	for _, tc := range unseen {
		t.Run(tc.name, func(t *testing.T) {
			c := &Classifier{}
			if len(tc.nodeRoles) > 0 {
				c.NodeRoles = map[string]bool{}
				for _, r := range tc.nodeRoles {
					c.NodeRoles[r] = true
				}
			}
			f, ok := c.ClassifyLine(tc.line)
			if tc.want == "" {
				if ok {
					t.Fatalf("want no finding, got %s (%s): %s\n  line: %s", f.ID, f.Confidence, f.Reason, tc.line)
				}
				return
			}
			if !ok || f.ID != tc.want {
				t.Fatalf("got %q (ok=%v, reason %q), want %s\n  line: %s", f.ID, ok, f.Reason, tc.want, tc.line)
			}
			check := func(field, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("SDK", f.SDK, tc.sdk)
			check("Confidence", f.Confidence, tc.conf)
			check("CallerARN", f.CallerARN, tc.caller)
			check("Account", f.Account, tc.account)
			check("Role", f.Role, tc.role)
			check("Session", f.Session, tc.session)
			check("Action", f.Action, tc.action)
			check("Resource", f.Resource, tc.resource)
			if f.Line != 1 || f.Reason == "" || f.Excerpt == "" || len(f.Excerpt) > 300 {
				t.Errorf("incomplete finding: %+v", f)
			}
			if strings.ContainsAny(f.Excerpt, "\x1b\n\t\r") {
				t.Errorf("excerpt not cleaned: %q", f.Excerpt)
			}
		})
		if tc.want == "" {
			none++
		} else {
			ids[tc.want]++
		}
	}
	for _, id := range allIDs {
		if ids[id] == 0 {
			t.Errorf("no unseen test line for %s", id)
		}
	}
	t.Logf("%d unseen-style lines: %d with a finding, %d None look-alikes", len(unseen), len(unseen)-none, none)
}

var allIDs = []ID{NodeRoleFallback, PermissionMissing, TrustRejected, NoOIDCProvider, BadAudience, TokenExpired,
	TokenUnreadable, NoCredentials, InvalidRoleARN, RegionOrEndpoint, Thumbprint, StaticCredentials,
	PodIdentityEndpointUnreachable, PodIdentityDenied, PodIdentityOldSDK, PodIdentityAgentNotListening,
	PodIdentityEKSAuthUnreachable, PodIdentityBlockedByNetworkPolicy, PodIdentityTokenMissing, PodIdentityTokenEmpty,
	PodIdentityTokenExpired, PodIdentityAssociationRefused}

// TestKeywordsCoverTestLines checks that the prefilter is not what decides:
// every test line with a finding also classifies when the rules run
// without it, and the rules alone find nothing more on the None lines.
func TestKeywordsCoverTestLines(t *testing.T) {
	c := &Classifier{}
	lines := []string{}
	for _, tc := range unseen {
		lines = append(lines, tc.line)
	}
	for _, r := range loadCorpus(t) {
		lines = append(lines, r.line)
	}
	for _, line := range lines {
		_, viaPrefilter := c.ClassifyLine(line)
		f, direct := c.classify(line)
		if viaPrefilter != direct {
			t.Errorf("prefilter changes the result (prefilter %v, rules alone %v %s) for: %s", viaPrefilter, direct, f.ID, line)
		}
	}
}

// hasKeywordSlow is the plain definition of the prefilter.
func hasKeywordSlow(line string) bool {
	for _, k := range keywords {
		for off := 0; ; {
			i := strings.Index(line[off:], k)
			if i < 0 {
				break
			}
			if keywordAt(line, off+i, k) {
				return true
			}
			off += i + 1
		}
	}
	return false
}

func TestHasKeyword(t *testing.T) {
	lines := []string{"", "abc", "Credential", "xCredential", "Credentia", "https://b.s3.amazonaws.com/x",
		"lookup s3.x.amazonaws.com: no such host", "Post https://sts.amazonaws.com/", "/eks.amazonaws.com/serviceaccount/token"}
	for _, tc := range unseen {
		lines = append(lines, tc.line)
	}
	for _, r := range loadCorpus(t) {
		lines = append(lines, r.line)
	}
	for _, l := range lines {
		// Every alignment of the line.
		for pad := 0; pad < 4; pad++ {
			s := strings.Repeat(" ", pad) + l
			if got, want := hasKeyword(s), hasKeywordSlow(s); got != want {
				t.Errorf("hasKeyword = %v, want %v for %q", got, want, s)
			}
		}
	}
	for _, k := range keywords {
		if len(k) < minKeywordLen {
			t.Errorf("keyword %q is shorter than %d bytes", k, minKeywordLen)
		}
	}
}
