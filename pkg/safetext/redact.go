// Package safetext makes text from a cluster, AWS or an application log safe
// to show: Redact masks credentials, Terminal escapes what a terminal would
// interpret (control characters, bidi overrides, invalid UTF-8), String does
// both for human output and Data does both for JSON and YAML values.
//
// It is pure (no IO) and every function runs in time linear in the length of
// its input, without regular expressions. A string with nothing to change is
// returned as is, without allocating.
package safetext

import "strings"

// Marker replaces a masked value.
const Marker = "[REDACTED]"

// jwtMarker replaces a whole JSON Web Token.
const jwtMarker = "[REDACTED-JWT]"

// Redact masks credentials in s and returns the result; the text around them
// is kept, so that the line stays recognisable:
//
//   - AWS access key ids (AKIA, ASIA, AROA, AIDA, ... followed by 16
//     upper-case letters and digits, not within a longer such run): the
//     4-character prefix is kept, which tells long-term
//     keys (AKIA) from temporary ones (ASIA), and the rest masked:
//     "AKIA[REDACTED]";
//   - the value after a credential key: aws_secret_access_key,
//     AWS_SECRET_ACCESS_KEY, SecretAccessKey, "secretAccessKey", SessionToken,
//     AWS_SESSION_TOKEN, X-Amz-Security-Token, X-Amz-Signature,
//     X-Amz-Credential, Credential=, Signature=, password, client_secret,
//     access_token, refresh_token, id_token (any case, '_', '-' or '.' inside,
//     separated by ':', '=' or "=>", quoted or not, JSON-escaped or not):
//     "SecretAccessKey: [REDACTED]";
//   - Authorization (and Proxy-Authorization) header values: the scheme is
//     kept ("Authorization: Bearer [REDACTED]", "Authorization:
//     AWS4-HMAC-SHA256 [REDACTED]"), and "Bearer TOKEN" anywhere (Bearer,
//     bearer or BEARER);
//   - JSON Web Tokens (eyJ... three base64url segments): "[REDACTED-JWT]";
//   - bare STS session tokens (long base64 starting IQoJb3JpZ2lu or
//     FwoGZXIvYXdz) and bare 40-character secret access keys (a run of
//     exactly 40 base64 characters with upper and lower case letters and a
//     digit): "[REDACTED]".
//
// Redact is idempotent: Redact(Redact(s)) == Redact(s).
func Redact(s string) string {
	if len(s) < 8 || !mayHaveSecret(s) {
		return s
	}
	r := redactor{s: s}
	r.run()
	if r.out == nil {
		return s
	}
	r.out = append(r.out, s[r.last:]...)
	return string(r.out)
}

// mayHaveSecret is a quick pass that is true whenever the redactor could
// find something (and rarely otherwise): "eyJ" (a JWT), "Bearer", "bearer"
// or "BEARER", a run of 20 upper-case letters and digits (an access key
// id), of 40 base64 characters (a secret key or a session token), or ':' or
// '=' after a key whose name ends like a credential key's. One table
// lookup per byte; it branches only at the few trigger characters.
func mayHaveSecret(s string) bool {
	up, b64 := 0, 0
	for i := 0; i < len(s); i++ {
		cl := classes[s[i]]
		up = (up + 1) * int(cl>>clUpperAlnumBit&1)
		b64 = (b64 + 1) * int(cl>>clB64Bit&1)
		if up >= 20 || b64 >= 40 {
			return true
		}
		if cl&clTrigger == 0 {
			continue
		}
		switch s[i] {
		case ':', '=':
			if keyEndingBefore(s, i) {
				return true
			}
		case 'J':
			if i >= 2 && s[i-2:i] == "ey" {
				return true
			}
		case 'b', 'B':
			if len(s)-i >= 6 && (s[i+1:i+6] == "earer" || s[i+1:i+6] == "EARER") {
				return true
			}
		}
	}
	return false
}

// keyEndingBefore reports whether the separator at v follows (after
// spaces, then up to three quotes or backslashes) a key name that
// secretKeyEnding admits.
func keyEndingBefore(s string, v int) bool {
	q := v
	for q > 0 && s[q-1] == ' ' {
		q--
	}
	for n := 0; n < 3 && q > 0 && (s[q-1] == '"' || s[q-1] == '\'' || s[q-1] == '\\'); n++ {
		q--
	}
	k := q
	for k > 0 && q-k < 64 && isKeyChar(s[k-1]) {
		k--
	}
	return secretKeyEnding(s[k:q])
}

type redactor struct {
	s    string
	out  []byte // nil until the first replacement
	last int    // s[:last] is in out
}

// replace writes s[r.last:from], then repl, and skips s[from:to].
func (r *redactor) replace(from, to int, repl string) {
	if r.out == nil {
		r.out = make([]byte, 0, len(r.s)+16)
	}
	r.out = append(r.out, r.s[r.last:from]...)
	r.out = append(r.out, repl...)
	r.last = to
}

var accessKeyPrefixes = [...]string{"AKIA", "ASIA", "AROA", "AIDA", "AGPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA", "AIPA", "ASCA"}

// sessionTokenPrefixes start the base64 of STS session tokens.
var sessionTokenPrefixes = [...]string{"IQoJb3JpZ2lu", "FwoGZXIvYXdz", "FQoGZXIvYXdz"}

func (r *redactor) run() {
	s := r.s
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		var p byte // the character before the run, 0 at the start
		if i > 0 {
			p = s[i-1]
		}
		j := i + 1
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		if next, ok := r.at(i, j, p); ok {
			i = next
			continue
		}
		i = j
	}
}

// at looks for a credential starting at i, where s[i:j] is a maximal run of
// letters and digits preceded by p; it returns where to continue after a
// replacement (or a value already masked).
func (r *redactor) at(i, j int, p byte) (int, bool) {
	s := r.s
	// Access key id: a run of exactly 20 upper-case letters and digits,
	// also when glued to lower-case letters ("userAKIA...", "AKIA...is").
	if j-i >= 20 {
		for q := i; q < j; {
			if !isUpperAlnum(s[q]) {
				q++
				continue
			}
			e := q + 1
			for e < j && isUpperAlnum(s[e]) {
				e++
			}
			if e-q == 20 && hasAnyPrefix(s[q:], accessKeyPrefixes[:]) {
				r.replace(q+4, e, Marker)
				return e, true
			}
			q = e
		}
	}
	// JSON Web Token.
	if !isB64URL(p) && p != '.' && strings.HasPrefix(s[i:], "eyJ") {
		if end, ok := jwtEnd(s, i); ok {
			r.replace(i, end, jwtMarker)
			return end, true
		}
	}
	if !isB64(p) {
		k := j
		for k < len(s) && k-i <= 40 && isB64(s[k]) {
			k++
		}
		// Bare session token.
		if k-i > 40 && hasAnyPrefix(s[i:], sessionTokenPrefixes[:]) {
			for k < len(s) && (isB64(s[k]) || s[k] == '=') {
				k++
			}
			if k-i >= 64 {
				r.replace(i, k, Marker)
				return k, true
			}
		}
		// Bare secret access key.
		if k-i == 40 && (k == len(s) || !isB64(s[k]) && s[k] != '=') && looksRandom(s[i:k]) {
			r.replace(i, k, Marker)
			return k, true
		}
	}
	// Bearer TOKEN.
	if j-i == 6 && (s[i:j] == "Bearer" || s[i:j] == "bearer" || s[i:j] == "BEARER") && j+1 < len(s) && s[j] == ' ' {
		if end := valueEnd(s, j+1, false); end-(j+1) >= 8 && !strings.HasPrefix(s[j+1:], Marker) {
			r.replace(j+1, end, Marker)
			return end, true
		}
	}
	// key: value
	if !isKeyChar(p) {
		return r.keyValue(i, j)
	}
	return 0, false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// looksRandom reports whether s holds an upper-case letter, a lower-case
// letter and a digit (a 40-character path or hex digest rarely does).
func looksRandom(s string) bool {
	var up, low, dig bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		up = up || c >= 'A' && c <= 'Z'
		low = low || c >= 'a' && c <= 'z'
		dig = dig || c >= '0' && c <= '9'
	}
	return up && low && dig
}

// jwtEnd returns the end of a JSON Web Token starting at i: three base64url
// segments separated by dots (the signature may be empty).
func jwtEnd(s string, i int) (int, bool) {
	k := i
	for seg := 0; seg < 3; seg++ {
		st := k
		for k < len(s) && isB64URL(s[k]) {
			k++
		}
		if seg < 2 && (k-st < 2 || k >= len(s) || s[k] != '.') {
			return 0, false
		}
		if seg < 2 {
			k++
		}
	}
	return k, true
}

// secretKeys are the key names (lower case, without '_', '-' and '.')
// whose values are credentials; a key matches when its normalised name ends
// with one of them. eqOnly keys count only before '='.
var secretKeys = []struct {
	name   string
	eqOnly bool
}{
	{"secretaccesskey", false}, {"secretkey", false}, {"sessiontoken", false}, {"securitytoken", false},
	{"amzsignature", false}, {"amzcredential", false}, {"password", false}, {"passwd", false},
	{"clientsecret", false}, {"accesstoken", false}, {"refreshtoken", false}, {"idtoken", false},
	{"authorization", false}, {"credential", true}, {"signature", true},
}

// secretKeyEnding reports whether key's last four letters and digits
// (lower case, '_', '-' and '.' skipped) end one of secretKeys.
func secretKeyEnding(key string) bool {
	var last [4]byte
	n := 0
	for q := len(key) - 1; q >= 0 && n < 4; q-- {
		c := key[q]
		if c == '_' || c == '-' || c == '.' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		n++
		last[4-n] = c
	}
	if n < 4 {
		return false
	}
	switch string(last[:]) {
	case "skey", "tkey", "oken", "ture", "tial", "word", "sswd", "cret", "tion":
		return true
	}
	return false
}

// authSchemes are kept in front of a masked Authorization value; the AWS
// ones are followed by several comma-separated parameters.
var authSchemes = []struct {
	name string
	aws  bool
}{
	{"bearer", false}, {"basic", false}, {"token", false}, {"digest", false}, {"negotiate", false},
	{"aws4-hmac-sha256", true}, {"aws4-ecdsa-p256-sha256", true}, {"aws", false},
}

// keyValue masks the value after a credential key starting at i (a maximal
// run start; s[i:j] are its first letters and digits).
func (r *redactor) keyValue(i, j int) (int, bool) {
	s := r.s
	k := j
	for k < len(s) && isKeyChar(s[k]) {
		k++
	}
	if k-i < 5 {
		return 0, false
	}
	// Separator: closing quotes, spaces, ':' '=' or "=>", spaces, opening
	// quotes (JSON-escaped or not), a Go map's '['.
	v := k
	for v < len(s) && v-k < 3 && (s[v] == '"' || s[v] == '\'' || s[v] == '\\') {
		v++
	}
	for v < len(s) && s[v] == ' ' {
		v++
	}
	if v >= len(s) || s[v] != ':' && s[v] != '=' {
		return 0, false
	}
	// Most keys followed by a separator are not credential keys: look at
	// the last four letters of the name first.
	if !secretKeyEnding(s[i:k]) {
		return 0, false
	}
	// Normalise the end of the key name.
	var buf [24]byte
	n := len(buf)
	for q := k - 1; q >= i && n > 0; q-- {
		c := s[q]
		if c == '_' || c == '-' || c == '.' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		n--
		buf[n] = c
	}
	name := string(buf[n:])
	key := -1
	for x, sk := range secretKeys {
		if strings.HasSuffix(name, sk.name) {
			key = x
			break
		}
	}
	if key < 0 {
		return 0, false
	}
	if s[v] == ':' && secretKeys[key].eqOnly {
		return 0, false
	}
	v++
	if v < len(s) && s[v] == '>' {
		v++
	}
	open := v
	for v < len(s) && v-open < 8 && (s[v] == ' ' || s[v] == '"' || s[v] == '\'' || s[v] == '\\' || s[v] == '[') {
		if strings.HasPrefix(s[v:], Marker) || strings.HasPrefix(s[v:], jwtMarker) {
			break
		}
		v++
	}
	if strings.HasPrefix(s[v:], Marker) {
		return v + len(Marker), true
	}
	if strings.HasPrefix(s[v:], jwtMarker) {
		return v + len(jwtMarker), true
	}
	if secretKeys[key].name == "authorization" {
		return r.authorization(v)
	}
	end := valueEnd(s, v, false)
	if end == v {
		return 0, false
	}
	r.replace(v, end, Marker)
	return end, true
}

// authorization masks an Authorization header value starting at v, keeping
// its scheme.
func (r *redactor) authorization(v int) (int, bool) {
	s := r.s
	aws := false
	for _, sc := range authSchemes {
		if len(s)-v > len(sc.name) && strings.EqualFold(s[v:v+len(sc.name)], sc.name) && s[v+len(sc.name)] == ' ' {
			v += len(sc.name)
			for v < len(s) && s[v] == ' ' {
				v++
			}
			aws = sc.aws
			break
		}
	}
	if strings.HasPrefix(s[v:], Marker) {
		return v + len(Marker), true
	}
	end := valueEnd(s, v, aws)
	if end == v {
		return 0, false
	}
	r.replace(v, end, Marker)
	return end, true
}

// valueEnd returns the end of the value starting at v. A multi-parameter
// value (AWS SigV4: "Credential=..., SignedHeaders=..., Signature=...") runs
// over spaces and commas to the end of the quoted or bracketed header.
func valueEnd(s string, v int, multi bool) int {
	e := v
	for e < len(s) {
		c := s[e]
		if multi && (c == ' ' || c == ',' || c == ';') {
			e++
			continue
		}
		if isValueEnd(c) {
			break
		}
		e++
	}
	if multi {
		for e > v && (s[e-1] == ' ' || s[e-1] == ',') {
			e--
		}
	}
	return e
}
