package setup

import "encoding/json"

// ServiceAccountStatements returns the statements ServiceAccount namespace/name owns (its PolicySid, and
// PolicySid+"PartN") in an inline policy document as IAM returns it (URL-encoded or plain), Sids included: what
// export writes as the ServiceAccount's permissions.
func ServiceAccountStatements(doc, namespace, name string) ([]json.RawMessage, error) {
	norm, err := NormalizePolicy(doc)
	if err != nil {
		return nil, err
	}
	return ownedIn(norm, PolicySid(namespace, name))
}
