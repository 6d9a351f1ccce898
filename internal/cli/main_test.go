package cli

import (
	"testing"

	"github.com/iamgate/iamgate/internal/testutil/moto"
)

// TestMain stops the shared moto server the resolve-ids tests start.
func TestMain(m *testing.M) { moto.Main(m) }
