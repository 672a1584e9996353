package logclass

import "strings"

// ruleEncodedDenial: EC2 (and the services that answer like it) denied a call with only an encoded authorization
// message, no caller and no action in clear ("UnauthorizedOperation: You are not authorized to perform this
// operation. Encoded authorization failure message: ..."). The role in use lacks a permission; which one, only
// sts:DecodeAuthorizationMessage tells. Lines naming the caller are ruleDeniedCaller's.
func ruleEncodedDenial(_ *Classifier, s, l string) (match, bool) {
	e := strings.Index(l, "encoded authorization failure message")
	if e < 0 {
		return match{}, false
	}
	i := indexAny(l, "unauthorizedoperation", "not authorized to perform this operation")
	if i < 0 || i > e {
		return match{}, false
	}
	return match{id: PermissionMissing, at: i, conf: confMedium,
		reason: "the call was denied and the answer names its caller and action only in an encoded message: decode it with aws sts decode-authorization-message (needs sts:DecodeAuthorizationMessage) to see the missing permission"}, true
}
