package logclass

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestSDKMessages checks the table of SDK messages against the rules: each
// row's sample carries the row's words and classifies to the row's id, and
// the prefilter lets it through.
func TestSDKMessages(t *testing.T) {
	c := &Classifier{}
	perSDK := map[string]int{}
	for _, m := range sdkMessages {
		perSDK[m.sdk]++
		if m.sdk == "" || m.words == "" || m.source == "" || m.sample == "" || m.id == "" {
			t.Errorf("incomplete row %+v", m)
			continue
		}
		if m.words != strings.ToLower(m.words) {
			t.Errorf("%s %q: words must be lowercase", m.sdk, m.words)
		}
		if !strings.Contains(asciiLower(normalize(m.sample)), m.words) {
			t.Errorf("%s %q: the sample does not carry the words: %s", m.sdk, m.words, m.sample)
		}
		f, ok := c.ClassifyLine(m.sample)
		if !ok || f.ID != m.id {
			t.Errorf("%s %q: got %q (ok=%v, %s), want %s\n  sample: %s", m.sdk, m.words, f.ID, ok, f.Reason, m.id, m.sample)
		}
	}
	t.Logf("%d SDK messages: %v", len(sdkMessages), perSDK)
}

// sdkLine is one row of testdata/sdk_lines.tsv: a line written for these
// tests in an SDK's or tool's wording. kind is the failure the line shows
// (expected = kind) or imitates (expected None: a look-alike).
type sdkLine struct {
	expected, family, kind, line string
	lineNo                       int
}

const sdkLinesFile = "testdata/sdk_lines.tsv"

func loadSDKLines(tb testing.TB) []sdkLine {
	tb.Helper()
	data, err := os.ReadFile(sdkLinesFile)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) < 2 || lines[0] != "expected\tfamily\tkind\tline" {
		tb.Fatalf("%s: unexpected header %q", sdkLinesFile, lines[0])
	}
	var rows []sdkLine
	for i, l := range lines[1:] {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.SplitN(l, "\t", 4)
		if len(parts) != 4 {
			tb.Fatalf("%s:%d: want 4 tab-separated columns, got %d", sdkLinesFile, i+2, len(parts))
		}
		rows = append(rows, sdkLine{parts[0], parts[1], parts[2], parts[3], i + 2})
	}
	return rows
}

// sdkFamilies are the SDK families and tools the rules are written for,
// with the failure kinds each must be tested on (a positive and a
// look-alike each).
var sdkFamilies = map[string][]ID{
	"aws-sdk-go":             {NoCredentials, TrustRejected, PermissionMissing, NodeRoleFallback, RegionOrEndpoint, TokenUnreadable, PodIdentityOldSDK, PodIdentityEndpointUnreachable, PodIdentityTokenMissing},
	"aws-sdk-go-v2":          {NoCredentials, TrustRejected, PermissionMissing, RegionOrEndpoint, TokenUnreadable, PodIdentityEndpointUnreachable, PodIdentityDenied, PodIdentityTokenMissing},
	"botocore":               {NoCredentials, TrustRejected, PermissionMissing, BadAudience, RegionOrEndpoint, PodIdentityOldSDK, PodIdentityEndpointUnreachable, PodIdentityDenied, PodIdentityTokenMissing, PodIdentityTokenEmpty},
	"aws-cli":                {NoCredentials, TrustRejected, PermissionMissing, PodIdentityDenied, PodIdentityAssociationRefused},
	"aws-sdk-java":           {NoCredentials, TrustRejected, PermissionMissing, PodIdentityOldSDK, PodIdentityEndpointUnreachable},
	"aws-sdk-java-v2":        {NoCredentials, TrustRejected, PermissionMissing, NoOIDCProvider, PodIdentityOldSDK, PodIdentityTokenMissing},
	"aws-sdk-js":             {NoCredentials, TrustRejected, PermissionMissing, PodIdentityOldSDK},
	"aws-sdk-js-v3":          {NoCredentials, TrustRejected, PermissionMissing, PodIdentityOldSDK, PodIdentityEndpointUnreachable, PodIdentityTokenMissing},
	"aws-sdk-net":            {NoCredentials, TrustRejected, PermissionMissing, TokenUnreadable, PodIdentityEndpointUnreachable},
	"aws-sdk-ruby":           {NoCredentials, TrustRejected, PermissionMissing, BadAudience, PodIdentityEndpointUnreachable, PodIdentityTokenMissing},
	"aws-sdk-php":            {NoCredentials, TrustRejected, PermissionMissing, InvalidRoleARN, TokenUnreadable, PodIdentityOldSDK, PodIdentityEndpointUnreachable, PodIdentityTokenMissing, PodIdentityTokenEmpty},
	"aws-sdk-rust":           {NoCredentials, TrustRejected, PermissionMissing, PodIdentityOldSDK, PodIdentityTokenEmpty},
	"rusoto":                 {NoCredentials, TrustRejected},
	"aws-sdk-cpp":            {NoCredentials, TrustRejected, TokenUnreadable},
	"terraform-provider-aws": {NoCredentials, TrustRejected, PodIdentityAssociationRefused},
	"external-secrets":       {TrustRejected, PermissionMissing},
	"karpenter":              {PermissionMissing, NodeRoleFallback},
	"cluster-autoscaler":     {NodeRoleFallback, PermissionMissing},
	"loki":                   {RegionOrEndpoint, NoCredentials},
	"velero":                 {NoCredentials, PermissionMissing},
	"fluent-bit":             {NoCredentials},
	"spark-s3a":              {NoCredentials, PermissionMissing},
	"eks-pod-identity-agent": {PodIdentityDenied, PodIdentityEKSAuthUnreachable, PodIdentityAgentNotListening, PodIdentityTokenEmpty,
		PodIdentityTokenExpired, PodIdentityAssociationRefused},
	"cilium-hubble":                  {PodIdentityBlockedByNetworkPolicy},
	"secrets-store-csi-provider-aws": {PodIdentityEndpointUnreachable},
}

// TestSDKLines runs our own lines of every SDK family: positives must get
// their id, look-alikes none, and every family has a positive and a
// look-alike for every failure kind listed for it.
func TestSDKLines(t *testing.T) {
	rows := loadSDKLines(t)
	c := &Classifier{}
	type fk struct {
		family string
		kind   ID
	}
	pos, neg := map[fk]int{}, map[fk]int{}
	pass, positives := 0, 0
	for _, r := range rows {
		if _, ok := sdkFamilies[r.family]; !ok {
			t.Errorf("%s:%d: unknown family %q", sdkLinesFile, r.lineNo, r.family)
		}
		if !slices.Contains(allIDs, ID(r.kind)) {
			t.Errorf("%s:%d: unknown kind %q", sdkLinesFile, r.lineNo, r.kind)
		}
		if r.expected != "None" && r.expected != r.kind {
			t.Errorf("%s:%d: expected %s but kind %s", sdkLinesFile, r.lineNo, r.expected, r.kind)
		}
		got, ok := c.ClassifyLine(r.line)
		gotID := "None"
		if ok {
			gotID = string(got.ID)
		}
		// The prefilter must not decide: the rules alone agree.
		if _, direct := c.classify(r.line); direct != ok {
			t.Errorf("%s:%d: prefilter changes the result (rules alone %v)", sdkLinesFile, r.lineNo, direct)
		}
		if r.expected == "None" {
			neg[fk{r.family, ID(r.kind)}]++
		} else {
			positives++
			pos[fk{r.family, ID(r.kind)}]++
		}
		if gotID != r.expected {
			t.Errorf("%s:%d [%s %s]: got %s (%s), want %s\n  line: %s", sdkLinesFile, r.lineNo, r.family, r.kind, gotID, got.Reason, r.expected, r.line)
			continue
		}
		pass++
		if ok && (got.Confidence == "" || got.Reason == "" || got.Excerpt == "" || len(got.Excerpt) > 300) {
			t.Errorf("%s:%d: incomplete finding %+v", sdkLinesFile, r.lineNo, got)
		}
	}
	for family, kinds := range sdkFamilies {
		for _, k := range kinds {
			if pos[fk{family, k}] == 0 {
				t.Errorf("%s: no positive line for %s", family, k)
			}
			if neg[fk{family, k}] == 0 {
				t.Errorf("%s: no look-alike line for %s", family, k)
			}
		}
	}
	t.Logf("%s: %d/%d lines pass (%d positive, %d look-alike)", sdkLinesFile, pass, len(rows), positives, len(rows)-positives)
}

func TestSDKWords(t *testing.T) {
	if len(sdkWords) > maxSDKWords {
		t.Fatalf("%d sdkWords, detectSDK has room for %d", len(sdkWords), maxSDKWords)
	}
	seen := map[string]bool{}
	for _, w := range sdkWords {
		if seen[w] || len(w) < 2 {
			t.Errorf("sdk word %q is repeated or shorter than two bytes", w)
		}
		seen[w] = true
	}
}

// TestPhraseSet checks the one-pass matcher against strings.Index on every
// test line and its phrase lists.
func TestPhraseSet(t *testing.T) {
	lists := [][]string{noCredentialsStrong, noCredentialsWeak, tokenUnreadablePhrases, hostRefusedPhrases,
		responseGarbled, assumeWrapperPhrases, networkErrs, dnsErrs, sdkWords,
		{"jwt", "token", "ab", "no", "credentials"}} // phrases shorter than four bytes are looked for apart
	var lines []string
	for _, r := range loadSDKLines(t) {
		lines = append(lines, r.line, asciiLower(normalize(r.line)))
	}
	for _, r := range loadCorpus(t) {
		lines = append(lines, r.line, asciiLower(normalize(r.line)))
	}
	for _, tc := range unseen {
		lines = append(lines, asciiLower(normalize(tc.line)))
	}
	lines = append(lines, "", "a", "ab", "nocredentialprovider", "xxunable to locate credentials")
	found := 0
	for _, list := range lists {
		ps := newPhraseSet(list)
		for _, l := range lines {
			want := indexAny(l, list...)
			if got := ps.index(l); got != want {
				t.Errorf("index = %d, want %d for %q", got, want, l)
			}
			var seen [maxSDKWords]bool
			ps.mark(l, seen[:])
			for k, p := range list {
				if seen[k] != strings.Contains(l, p) {
					t.Errorf("mark(%q)[%q] = %v", l, p, seen[k])
				}
			}
			if want >= 0 {
				found++
			}
		}
	}
	if found == 0 {
		t.Fatal("no phrase found in any line: the test checks nothing")
	}
}

// TestSDKMessagesInCorpus checks that every row of the table has, in
// testdata/sdk_lines.tsv, a positive line of our own carrying its words
// (besides the row's sample) and a look-alike of the same failure kind in
// the same SDK family.
func TestSDKMessagesInCorpus(t *testing.T) {
	rows := loadSDKLines(t)
	family := func(sdk string) string {
		switch sdk {
		case "hadoop-s3a":
			return "spark-s3a"
		case "STS (all SDKs)":
			return ""
		}
		return sdk
	}
	for _, m := range sdkMessages {
		fam := family(m.sdk)
		var pos, neg bool
		for _, r := range rows {
			if fam != "" && r.family != fam {
				continue
			}
			if r.expected == string(m.id) && strings.Contains(asciiLower(normalize(r.line)), m.words) {
				pos = true
			}
			if r.expected == "None" && r.kind == string(m.id) {
				neg = true
			}
		}
		if !pos {
			t.Errorf("%s %q (%s): no positive line in %s", m.sdk, m.words, m.id, sdkLinesFile)
		}
		if !neg {
			t.Errorf("%s %q (%s): no look-alike line in %s", m.sdk, m.words, m.id, sdkLinesFile)
		}
	}
}
