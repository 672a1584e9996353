package plugin

import "testing"

// TestGCRegionIsTheClientsRegion: gc's --region shadows the global flag, so its first value becomes the AWS
// clients' region unless one is set otherwise.
func TestGCRegionIsTheClientsRegion(t *testing.T) {
	for _, tc := range []struct {
		global  string
		regions []string
		want    string
	}{
		{regions: []string{"eu-west-1", "us-east-1"}, want: "eu-west-1"},
		{global: "us-west-2", regions: []string{"eu-west-1"}, want: "us-west-2"},
		{want: ""},
	} {
		o := &GCOptions{Globals: &Globals{Flags: &GlobalFlags{Region: tc.global}}}
		o.req.Regions = tc.regions
		o.Complete()
		if o.Flags.Region != tc.want {
			t.Errorf("global %q, --region %v: clients' region %q, want %q", tc.global, tc.regions, o.Flags.Region, tc.want)
		}
	}
}
