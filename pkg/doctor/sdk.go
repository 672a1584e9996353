package doctor

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// minimumSDK is the first release of each SDK with web identity (IRSA) support.
var minimumSDK = []struct {
	name string
	// product matches the SDK's user-agent or log token, case-insensitively.
	product *regexp.Regexp
	minimum string
}{
	{"AWS SDK for Java v2", regexp.MustCompile(`(?i)\baws-sdk-java/(2\.[0-9.]+)`), "2.10.11"},
	{"AWS SDK for Java v1", regexp.MustCompile(`(?i)\baws-sdk-java/(1\.[0-9.]+)`), "1.11.704"},
	{"AWS SDK for Go v1", regexp.MustCompile(`(?i)\baws-sdk-go/(1\.[0-9.]+)`), "1.23.13"},
	{"boto3", regexp.MustCompile(`(?i)\bboto3/([0-9][0-9.]+)`), "1.9.220"},
	{"botocore", regexp.MustCompile(`(?i)\bbotocore/([0-9][0-9.]+)`), "1.12.200"},
	{"AWS CLI", regexp.MustCompile(`(?i)\baws-cli/(1\.[0-9.]+)`), "1.16.232"},
	{"AWS SDK for JavaScript v2", regexp.MustCompile(`(?i)\baws-sdk-(?:nodejs|js)/(2\.[0-9.]+)`), "2.525.0"},
	{"AWS SDK for JavaScript v3", regexp.MustCompile(`(?i)\baws-sdk-js/(3\.[0-9.]+)`), "3.27.0"},
	{"AWS SDK for Ruby", regexp.MustCompile(`(?i)\baws-sdk-ruby3?/(3\.[0-9.]+)`), "3.58.0"},
	{"AWS SDK for .NET", regexp.MustCompile(`(?i)\baws-sdk-dotnet-(?:core|[a-z0-9]+)/(3\.[0-9.]+)`), "3.3.659.1"},
	{"AWS SDK for PHP", regexp.MustCompile(`(?i)\baws-sdk-php/(3\.[0-9.]+)`), "3.110.7"},
	{"AWS SDK for C++", regexp.MustCompile(`(?i)\baws-sdk-cpp/(1\.[0-9.]+)`), "1.7.174"},
}

// oldSDKInLog finds an SDK version below its web identity minimum in a log line.
func oldSDKInLog(line string) (string, bool) {
	for _, sdk := range minimumSDK {
		if m := sdk.product.FindStringSubmatch(line); m != nil && versionLess(m[1], sdk.minimum) {
			return fmt.Sprintf("%s %s (web identity needs %s or later)", sdk.name, m[1], sdk.minimum), true
		}
	}
	return "", false
}

var cliImage = regexp.MustCompile(`(?i)(?:^|/)aws-?cli:v?([0-9]+\.[0-9]+\.[0-9]+)`)

// oldSDKInImage finds an AWS CLI image tag below the CLI's web identity minimum.
func oldSDKInImage(image string) (string, bool) {
	if m := cliImage.FindStringSubmatch(image); m != nil && versionLess(m[1], "1.16.232") {
		return fmt.Sprintf("AWS CLI %s (image %s; web identity needs 1.16.232 or later)", m[1], image), true
	}
	return "", false
}

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	as, bs := strings.Split(strings.Trim(a, "."), "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
