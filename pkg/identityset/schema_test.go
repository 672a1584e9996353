package identityset

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// compiledSchema compiles Schema with a real JSON Schema validator, as kubeconform and editors use it.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	id := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlDocuments returns each non-empty YAML document of data as the JSON value a validator reads.
func yamlDocuments(t *testing.T, data string) []any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(data))
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inst)
	}
}

// TestSchemaFollowsTypes keeps the schema and the Go types in step: each struct's json fields are the properties
// of its schema object (no more, no fewer), its fields without omitempty are the required ones, and every object
// refuses unknown properties.
func TestSchemaFollowsTypes(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatal(err)
	}
	props := func(m map[string]any, name string) map[string]any {
		return m["properties"].(map[string]any)[name].(map[string]any)
	}
	defs := root["definitions"].(map[string]any)
	role := defs["role"].(map[string]any)
	for typ, obj := range map[reflect.Type]map[string]any{
		reflect.TypeFor[IdentitySet](): root,
		reflect.TypeFor[Metadata]():    props(root, "metadata"),
		reflect.TypeFor[Spec]():        props(root, "spec"),
		reflect.TypeFor[Role]():        role,
		reflect.TypeFor[Statement]():   defs["statement"].(map[string]any),
		reflect.TypeFor[PodIdentity](): props(role, "podIdentity"),
	} {
		var fields, required []string
		for i := range typ.NumField() {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			fields = append(fields, name)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		var schemaFields, schemaRequired []string
		for k := range obj["properties"].(map[string]any) {
			schemaFields = append(schemaFields, k)
		}
		req, _ := obj["required"].([]any)
		for _, r := range req {
			schemaRequired = append(schemaRequired, r.(string))
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: the schema does not set additionalProperties: false", typ.Name())
		}
		slices.Sort(fields)
		slices.Sort(schemaFields)
		slices.Sort(required)
		slices.Sort(schemaRequired)
		if !slices.Equal(fields, schemaFields) {
			t.Errorf("%s: json fields %q, schema properties %q", typ.Name(), fields, schemaFields)
		}
		if !slices.Equal(required, schemaRequired) {
			t.Errorf("%s: required (no omitempty) %q, schema required %q", typ.Name(), required, schemaRequired)
		}
	}
}

// TestSchemaGoodFiles: what Load accepts, the schema accepts.
func TestSchemaGoodFiles(t *testing.T) {
	s := compiledSchema(t)
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := yamlDocuments(t, string(data))
	if len(docs) != 2 {
		t.Fatalf("%d documents", len(docs))
	}
	for i, d := range docs {
		if err := s.Validate(d); err != nil {
			t.Errorf("document %d: %v", i, err)
		}
	}
}

// TestSchemaBadFiles: each shape problem Load reports, the schema reports too.
func TestSchemaBadFiles(t *testing.T) {
	s := compiledSchema(t)
	const sa = "      serviceAccounts: [app/api]\n"
	for name, file := range map[string]string{
		"unknown field":           doc("s", "    - name: r\n"+sa) + "status: {}\n",
		"unknown role field":      doc("s", "    - name: r\n"+sa+"      serviceAcount: [x/y]\n"),
		"number for string":       doc("s", "    - name: 12\n"+sa),
		"apiVersion":              strings.Replace(doc("s", "    - name: r\n"+sa), "v1alpha1", "v1", 1),
		"kind":                    strings.Replace(doc("s", "    - name: r\n"+sa), "kind: IdentitySet", "kind: RoleSet", 1),
		"set name":                doc("Pay_ments", "    - name: r\n"+sa),
		"roles missing":           strings.TrimSuffix(doc("s", ""), "  roles:\n") + "  {}\n",
		"neither name nor arn":    doc("s", "    - path: /k8s/\n"+sa),
		"name and arn":            doc("s", "    - name: r\n      arn: arn:aws:iam::123456789012:role/r\n"+sa),
		"role name":               doc("s", "    - name: \"r r\"\n"+sa),
		"role ARN":                doc("s", "    - arn: arn:aws:iam::123456789012:user/bob\n"+sa),
		"path":                    doc("s", "    - name: r\n      path: k8s\n"+sa),
		"mechanism":               doc("s", "    - name: r\n      mechanism: IRSA\n"+sa),
		"no service accounts":     doc("s", "    - name: r\n      serviceAccounts: []\n"),
		"service account shape":   doc("s", "    - name: r\n      serviceAccounts: [api]\n"),
		"service account twice":   doc("s", "    - name: r\n      serviceAccounts: [app/api, app/api]\n"),
		"action shape":            doc("s", "    - name: r\n"+sa+"      allow: [s3GetObject]\n"),
		"allow and policy":        doc("s", "    - name: r\n"+sa+"      allow: [s3:GetObject]\n      policy: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]\n"),
		"policy effect":           doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Permit, Action: s3:GetObject, Resource: \"*\"}]\n"),
		"policy no resource":      doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject}]\n"),
		"policy both actions":     doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject, NotAction: s3:PutObject, Resource: \"*\"}]\n"),
		"policy principal":        doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Principal: \"*\", Action: s3:GetObject, Resource: \"*\"}]\n"),
		"policy sid":              doc("s", "    - name: r\n"+sa+"      policy: [{Sid: Mine, Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]\n"),
		"policy condition":        doc("s", "    - name: r\n"+sa+"      policy: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\", Condition: {Bool: true}}]\n"),
		"managed policy ARN":      doc("s", "    - name: r\n"+sa+"      managedPolicies: [arn:aws:iam::aws:role/x]\n"),
		"podIdentity with irsa":   doc("s", "    - name: r\n"+sa+"      podIdentity: {disableSessionTags: true}\n"),
		"podIdentity target":      doc("s", "    - name: r\n      mechanism: pod-identity\n"+sa+"      podIdentity: {targetRoleArn: nope}\n"),
		"podIdentity unknown":     doc("s", "    - name: r\n      mechanism: pod-identity\n"+sa+"      podIdentity: {target: x}\n"),
		"allowAdmin not boolean":  doc("s", "    - name: r\n"+sa+"      allowAdmin: \"yes\"\n"),
		"metadata unknown field":  strings.Replace(doc("s", "    - name: r\n"+sa), "  name: s\n", "  name: s\n  namespace: x\n", 1),
		"spec unknown field":      doc("s", "    - name: r\n"+sa) + "  extra: 1\n",
		"serviceAccounts no list": doc("s", "    - name: r\n      serviceAccounts: app/api\n"),
	} {
		t.Run(name, func(t *testing.T) {
			for _, d := range yamlDocuments(t, file) {
				if err := s.Validate(d); err == nil {
					t.Errorf("the schema accepts it:\n%s", file)
				}
			}
			if _, err := Load([]string{writeTemp(t, file)}, nil); err == nil {
				t.Errorf("Load accepts what the schema refuses:\n%s", file)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestSchemaPublishedCopy: docs/identityset.schema.json, the copy editors and kubeconform fetch by URL, is Schema.
func TestSchemaPublishedCopy(t *testing.T) {
	published, err := os.ReadFile("../../docs/identityset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(published, Schema()) {
		t.Errorf("docs/identityset.schema.json differs from pkg/identityset/schema.json: copy it (kubectl irsa schema > docs/identityset.schema.json)")
	}
}
