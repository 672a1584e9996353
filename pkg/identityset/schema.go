package identityset

import (
	_ "embed"
	"slices"
)

//go:embed schema.json
var schema []byte

// Schema is the JSON Schema (draft-07) of an IdentitySet document, for editors (yaml-language-server) and
// kubeconform. It checks the shape of one document; Load checks more (IAM's policy rules, administrator-equivalent
// grants, a ServiceAccount listed once across files, entries of one role agreeing).
func Schema() []byte { return slices.Clone(schema) }
