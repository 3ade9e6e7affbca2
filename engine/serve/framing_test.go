package serve

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/internal/memtest"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
)

// readCommand reads a valid command of 16 MiB for about twice its size,
// as protodelim did (a buffer that doubled past the size took three
// times), and gives the command back whole.
func TestReadCommandAllocation(t *testing.T) {
	load := &myelinpb.Command{Id: 1, Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: strings.Repeat("x", 16<<20)}}}
	var in bytes.Buffer
	if _, err := protodelim.MarshalTo(&in, load); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(&in, 1<<16)
	got := &myelinpb.Command{}
	var err error
	n := memtest.Allocated(func() { err = readCommand(br, got) })
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLoad().GetSpecText() != load.GetLoad().GetSpecText() || got.GetId() != 1 {
		t.Fatal("the command read differs from the one written")
	}
	if n > 40<<20 {
		t.Errorf("reading a 16 MiB command allocated %d MiB, want about 32", n>>20)
	}
	t.Logf("a 16 MiB command: %d MiB allocated", n>>20)
}
