package identityset

import (
	"bytes"
	"encoding/json"
	"slices"
)

// CanonicalStatement is a statement's meaning as one string, for comparing a statement as read with one as a file
// gives it: the Sid dropped, Action, NotAction, Resource and NotResource as sorted lists without duplicates
// (IAM reads a string and a one-item list alike, and a list as a set), keys sorted, numbers and booleans kept.
// A statement with a field an IdentitySet statement has not is an error (treat it as different).
// `link --allow sqs:SendMessage,s3:GetObject` writes the actions in the order given; export writes them sorted as
// allow; both are the same statement here.
func CanonicalStatement(raw json.RawMessage) (string, error) {
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields() // a field a file cannot hold (Principal, ...) must not vanish: the caller sees an error
	if err := dec.Decode(&st); err != nil {
		return "", err
	}
	st.Sid = ""
	for _, l := range []*StringList{&st.Action, &st.NotAction, &st.Resource, &st.NotResource} {
		if len(*l) > 0 {
			*l = slices.Compact(slices.Sorted(slices.Values(*l)))
		}
	}
	// Marshalling through a map sorts the keys, as setup.NormalizePolicy does.
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	var m map[string]any
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return "", err
	}
	out, err := json.Marshal(m)
	return string(out), err
}
