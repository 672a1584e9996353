package logclass

import (
	"fmt"
	"strings"
)

// caller is a parsed denied caller.
type caller struct {
	raw, account, kind, role, session, user string
}

var callerKinds = []string{"assumed-role", "federated-user", "user", "role", "root"}

// parseCaller parses a caller ARN as printed,
// arn:aws[-cn|-us-gov...]:sts|iam::ACCOUNT:KIND[/NAME...], tolerating
// redacted accounts and a missing or blank separator before the kind
// ("arn:aws:sts:XXXXassumed-role/...", "arn:aws:sts::80xxxx assumed-role/...").
func parseCaller(raw string) (caller, bool) {
	rest, ok := strings.CutPrefix(raw, "arn:")
	if !ok {
		return caller{}, false
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !ok || !strings.HasPrefix(partition, "aws") {
		return caller{}, false
	}
	service, rest, ok := strings.Cut(rest, ":")
	if !ok || service != "sts" && service != "iam" {
		return caller{}, false
	}
	rest = strings.TrimPrefix(rest, ":") // the empty region of "sts::ACCOUNT"
	// The account ends where the first KIND followed by '/' or the end is.
	for i := 0; i < len(rest); i++ {
		for _, kind := range callerKinds {
			if !strings.HasPrefix(rest[i:], kind) {
				continue
			}
			after := rest[i+len(kind):]
			if after != "" && after[0] != '/' {
				continue
			}
			account := rest[:i]
			if n := len(account); n > 0 && (account[n-1] == ':' || account[n-1] == ' ') {
				account = account[:n-1]
			}
			c := caller{raw: raw, account: account, kind: kind}
			name := strings.TrimPrefix(after, "/")
			switch kind {
			case "assumed-role":
				c.role, c.session, _ = strings.Cut(name, "/")
			case "role":
				c.role = name[strings.LastIndexByte(name, '/')+1:]
			case "user", "federated-user":
				c.user = name[strings.LastIndexByte(name, '/')+1:]
			}
			return c, true
		}
	}
	return caller{}, false
}

const notAuthorized = "is not authorized to perform"

// ruleDeniedCaller handles "User: ARN is not authorized to perform: ACTION
// [on resource: RES]", the AccessDenied wording of every SDK.
func ruleDeniedCaller(c *Classifier, s, l string) (match, bool) {
	i := strings.Index(l, notAuthorized)
	if i < 0 {
		return match{}, false
	}
	lo := i - 400
	if lo < 0 {
		lo = 0
	}
	j := strings.LastIndex(l[lo:i], "arn:")
	if j < 0 {
		return match{}, false
	}
	j += lo
	raw := strings.TrimSpace(s[j:i])
	raw = strings.TrimRight(raw, `"'`)
	if raw == "" || strings.ContainsAny(raw, "\n\t") {
		return match{}, false
	}
	cl, ok := parseCaller(raw)
	if !ok {
		return match{}, false
	}
	f := Finding{CallerARN: raw, Account: cl.account, Role: cl.role, Session: cl.session}
	f.Action, f.Resource = parseActionResource(s[i+len(notAuthorized):])
	f.Blocked, f.Encoded = blockedBy(l[i:]), hasEncodedMessage(l)

	at := j
	if k := strings.LastIndex(l[lo:j], "user:"); k >= 0 && lo+k+len("user:")+2 >= j {
		at = lo + k
	}
	m := match{at: at, f: f}
	explicitDeny := strings.Contains(l, "with an explicit deny")

	switch cl.kind {
	case "user", "root":
		name := cl.user
		if cl.kind == "root" {
			name = "root"
		}
		if strings.Contains(raw, "$") {
			// "$ACCOUNT:user/$USER": shell placeholders, the line was
			// templated or hand-edited, nothing can be claimed from it.
			return match{}, false
		}
		m.id, m.conf = StaticCredentials, confHigh
		m.reason = fmt.Sprintf("the denied caller is IAM user %s, so the process signs with static access keys instead of the IRSA web identity role", name)
		return m, true
	case "federated-user":
		return match{}, false
	}

	// assumed-role or role.
	role, sess := cl.role, cl.session
	if kind := instanceIDKind(sess); kind != "" {
		m.id, m.conf = NodeRoleFallback, confHigh
		if kind == "redacted" {
			m.reason = fmt.Sprintf("session %s is a (redacted) EC2 instance id: the SDK fell back to the node's instance role instead of the pod's IRSA role", sess)
		} else {
			m.reason = fmt.Sprintf("session %s is an EC2 instance id: the SDK fell back to the node's instance role instead of the pod's IRSA role", sess)
		}
		return m, true
	}
	if c.isNodeRole(role) {
		m.id, m.conf = NodeRoleFallback, confHigh
		m.reason = fmt.Sprintf("role %s is a node role of this cluster: the SDK fell back to the node's instance role instead of the pod's IRSA role", role)
		return m, true
	}
	if strings.Contains(sess, "@") || strings.HasPrefix(role, "AWSReservedSSO_") || strings.HasPrefix(role, "AWSServiceRoleFor") {
		// A person's SSO/federated session or a service-linked role, not a pod.
		return match{}, false
	}
	if isECSTaskID(sess) {
		// An ECS task's role session (32 hex digits), not a Kubernetes pod.
		return match{}, false
	}
	if explicitDeny {
		// A resource-based or VPC endpoint policy denies everyone it names:
		// a policy decision about the resource, not the pod's role. An SCP,
		// a permissions boundary, a session policy or the role's own
		// identity-based policy limit this role: the pod's role is used but
		// may not do the action, and no Allow on the role can override it.
		policy := denyPolicy(l)
		if policy == "" {
			return match{}, false
		}
		m.id, m.conf = PermissionMissing, confMedium
		m.reason = fmt.Sprintf("the pod's role %s was used but an explicit deny in a %s blocks %s: no Allow on the role can override it, change the %s", role, policy, orAction(f.Action), policy)
		return m, true
	}
	podSess := isPodSession(sess)
	if looksLikeNodeRole(role) && !podSess {
		m.id, m.conf = NodeRoleFallback, confLow
		m.reason = fmt.Sprintf("only the role name %s suggests a node role; the session does not prove an instance profile", role)
		return m, true
	}
	if strings.EqualFold(f.Action, "sts:AssumeRoleWithWebIdentity") {
		m.id, m.conf = TrustRejected, confHigh
		m.reason = "STS refused AssumeRoleWithWebIdentity for this role: its trust policy does not accept the service account token"
		return m, true
	}
	m.id = PermissionMissing
	action := orAction(f.Action)
	if b := strings.Index(l[i:], "because no "); b >= 0 {
		// "because no permissions boundary allows ...", "because no
		// session policy allows ...": name the policy that lacks the Allow.
		switch rest := l[i+b+len("because no "):]; {
		case strings.HasPrefix(rest, "permissions boundary"):
			m.conf = confHigh
			m.reason = fmt.Sprintf("the pod's role %s was used but its permissions boundary does not allow %s (the boundary, not the role's policies, must change)", role, action)
			return m, true
		case strings.HasPrefix(rest, "session policy"):
			m.conf = confHigh
			m.reason = fmt.Sprintf("the pod's role %s was used but the session policy passed when assuming it does not allow %s", role, action)
			return m, true
		}
	}
	switch {
	case sess != "" && !isRedacted(sess) && !isRedacted(role):
		m.conf = confHigh
		m.reason = fmt.Sprintf("the pod's own role %s was used (session %s) but its policies do not allow %s", role, sess, action)
	case isRedacted(role) || isRedacted(sess):
		m.conf = confMedium
		m.reason = fmt.Sprintf("a role that is not a node role was used but its policies do not allow %s (role or session redacted)", action)
	default:
		m.conf = confMedium
		m.reason = fmt.Sprintf("role %s, not a node role, was used but its policies do not allow %s (no session name shown)", role, action)
	}
	return m, true
}

// denyPolicy names the kind of policy whose explicit deny the message
// reports, when it limits the caller's role (SCP, RCP, permissions
// boundary, session or identity-based policy), or "" (resource-based or
// VPC endpoint policy, or not named).
func denyPolicy(l string) string {
	const in = "explicit deny in "
	i := strings.Index(l, in)
	if i < 0 {
		return ""
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(l[i+len(in):], "a "), "an ")
	for _, p := range []string{"service control policy", "resource control policy", "permissions boundary",
		"session policy", "identity-based policy"} {
		if strings.HasPrefix(rest, p) {
			return p
		}
	}
	return ""
}

func orAction(action string) string {
	if action == "" {
		return "the action"
	}
	return action
}

// iamAction returns the IAM action (service:Name, e.g. eks:ListClusters or
// s3:Get*) at the start of s, or "".
func iamAction(s string) string {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || s[i] == '-') {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' {
		return ""
	}
	j := i + 1
	for j < len(s) && (isAlnum(s[j]) || s[j] == '*') {
		j++
	}
	if j == i+1 {
		return ""
	}
	return s[:j]
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseActionResource reads "[:] ACTION [on resource[:] RES]" after
// "is not authorized to perform".
func parseActionResource(rest string) (action, resource string) {
	rest = strings.TrimLeft(rest, ": ")
	action = iamAction(rest)
	if action == "" {
		return "", ""
	}
	rest = strings.TrimLeft(rest[len(action):], " ")
	const on = "on resource"
	if len(rest) < len(on) || !strings.EqualFold(rest[:len(on)], on) {
		return action, ""
	}
	rest = strings.TrimLeft(rest[len(on):], ": ")
	if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
		if k := strings.IndexByte(rest[1:], rest[0]); k >= 0 {
			return action, rest[1 : k+1]
		}
		rest = rest[1:]
	}
	end := len(rest)
	if end > 1024 {
		end = 1024
	}
	for _, t := range []string{" because ", " with an ", " with explicit", "\n", "\t", " (Service", "  ", " status code",
		"\"", "'", ";", ", status", " - ", ". ", "`"} {
		if k := strings.Index(rest[:end], t); k >= 0 {
			end = k
		}
	}
	res := strings.TrimRight(rest[:end], " .,)")
	// A resource the log cut ("arn:aws:s3:::b/ke...") keeps its "...", so
	// that it is not taken whole; ". " may have ended it inside the dots.
	trimmed := rest[len(res):]
	cut := strings.HasPrefix(trimmed, "...") || strings.HasPrefix(trimmed, "..") && end < len(rest) && rest[end] == '.'
	// Keep "role NAME"-style IAM resources, drop anything after them.
	if sp := strings.IndexByte(res, ' '); sp >= 0 {
		switch res[:sp] {
		case "role", "user", "group", "policy", "instance-profile":
			if k := strings.IndexByte(res[sp+1:], ' '); k >= 0 {
				res, cut = res[:sp+1+k], false
			}
		default:
			res, cut = res[:sp], false
		}
	}
	if cut {
		res += "..."
	}
	return action, res
}

// instanceIDKind returns "id" when sess is an EC2 instance id (i- and 8
// or 17 hex digits, tolerating odd lengths and a stray letter), "redacted"
// for a redacted one (i-XXXX, i-***, i-<...>, i-{...}), or "".
func instanceIDKind(sess string) string {
	body, ok := strings.CutPrefix(sess, "i-")
	if !ok || body == "" {
		return ""
	}
	if len(body) >= 3 && strings.Trim(body, "xX*#.") == "" {
		return "redacted"
	}
	if n := len(body); n >= 2 && (body[0] == '<' && body[n-1] == '>' || body[0] == '{' && body[n-1] == '}' || body[0] == '[' && body[n-1] == ']') {
		return "redacted"
	}
	if len(body) < 6 || len(body) > 20 {
		return ""
	}
	nonHex, digits := 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isAlnum(c) {
			return ""
		}
		if !isHex(c) {
			nonHex++
		}
		digits = digits || c >= '0' && c <= '9'
	}
	if digits && nonHex*5 <= len(body) {
		return "id"
	}
	return ""
}

// isECSTaskID reports whether sess is an ECS task id (32 hex digits): an
// ECS task's role session, not a Kubernetes pod's.
func isECSTaskID(sess string) bool { return len(sess) == 32 && isLowerHex(sess) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isPodSession reports whether sess is a session name that the SDKs,
// kube2iam/kiam or EKS Pod Identity give to a pod's role session: evidence
// that the pod's own role, not an instance profile, was used.
func isPodSession(sess string) bool {
	digitsOnly := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return s != ""
	}
	switch {
	case len(sess) >= 10 && len(sess) <= 20 && digitsOnly(sess): // aws-sdk-go v1 default: nanoseconds
		return true
	case strings.HasPrefix(sess, "botocore-session-"), strings.HasPrefix(sess, "aws-go-sdk-"),
		strings.HasPrefix(sess, "aws-sdk-"), strings.HasPrefix(sess, "session-"):
		return true
	case strings.HasPrefix(sess, "eks-") && len(sess) > 40 && isUUID(sess[len(sess)-36:]): // EKS Pod Identity
		return true
	case len(sess) > 9 && sess[8] == '-' && isLowerHex(sess[:8]): // kube2iam: 8 hex digits-ROLE
		return true
	}
	return false
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// nodeRoleWords are parts of role names given to node/instance roles by
// eksctl, Terraform EKS modules, Karpenter, kops and CloudFormation.
var nodeRoleWords = []string{"nodeinstancerole", "noderole", "node-role", "node_role", "nodegroup", "node-group",
	"node_group", "worker", "eks-node", "eks_node", "eksnode", "karpenternode", "karpenter-node", "instancerole",
	"instance-role", "instanceprofile", "instance-profile"}

// looksLikeNodeRole reports whether role's name suggests a node role.
func looksLikeNodeRole(role string) bool {
	if role == "" || isRedacted(role) {
		return false
	}
	l := strings.ToLower(role)
	if containsAny(l, nodeRoleWords...) {
		return true
	}
	// "nodes" or "node" as a whole word: eks-nodes-sandbox, nodes.k8s.local.
	for _, w := range []string{"nodes", "node"} {
		for off := 0; ; {
			i := strings.Index(l[off:], w)
			if i < 0 {
				break
			}
			i += off
			end := i + len(w)
			if (i == 0 || strings.IndexByte("-_.", l[i-1]) >= 0) && (end == len(l) || strings.IndexByte("-_.", l[end]) >= 0) {
				return true
			}
			off = end
		}
	}
	return false
}

// isRedacted reports whether s is a placeholder rather than a real name.
func isRedacted(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '<' || s[0] == '{' || s[0] == '[' || s[0] == '$' {
		return true
	}
	if strings.Contains(strings.ToLower(s), "redacted") {
		return true
	}
	return strings.Trim(s, "xX*#.") == ""
}
