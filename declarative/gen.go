package declarative

import (
	"fmt"
	"math"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// maxStack is the BPF stack size.
const maxStack = 512

// ctxReg holds the program's context for its whole run.
const ctxReg = asm.R6

// prog generates the instructions of one program.
type prog struct {
	p       *probe
	r       *resolver
	insns   asm.Instructions
	frame   int
	nlabel  int
	pending []string
	// elapsedOff is the stack slot of "elapsed" in an end program, else 0.
	elapsedOff int16
	// what names the program in errors ("filter", "label pid", ...).
	what string
}

func newProg(p *probe, r *resolver) *prog {
	// The first stack slot holds the drops map index (countDrop).
	g := &prog{p: p, r: r, frame: 8}
	g.emit(asm.Mov.Reg(ctxReg, asm.R1))
	return g
}

func (g *prog) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		for len(g.pending) > 1 {
			// Several labels on one spot: a "ja +0" carries the extra ones.
			g.insns = append(g.insns, asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)}.WithSymbol(g.pending[0]))
			g.pending = g.pending[1:]
		}
		if len(g.pending) == 1 {
			in = in.WithSymbol(g.pending[0])
			g.pending = nil
		}
		g.insns = append(g.insns, in)
	}
}

func (g *prog) newLabel() string {
	g.nlabel++
	return fmt.Sprintf("L%d", g.nlabel)
}

func (g *prog) label(l string) { g.pending = append(g.pending, l) }

// alloc reserves n bytes of stack, 8-byte aligned, and returns their offset from R10.
func (g *prog) alloc(n int) (int16, error) {
	n = (n + 7) &^ 7
	if g.frame+n > maxStack {
		return 0, fmt.Errorf("the program needs more than the %d bytes of BPF stack: use fewer or shorter string labels", maxStack)
	}
	g.frame += n
	return int16(-g.frame), nil
}

// zero clears n bytes (a multiple of 8) of stack at off.
func (g *prog) zero(off int16, n int) {
	for i := 0; i < n; i += 8 {
		g.emit(storeImm64(off+int16(i), 0))
	}
}

// finish ends the program: the exit label returns 0.
func (g *prog) finish() asm.Instructions {
	g.label("exit")
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	return g.insns
}

func sizeOf(n int) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	case 4:
		return asm.Word
	}
	return asm.DWord
}

// fixWidth truncates (or sign-extends) the value in R0 to t's width.
func (g *prog) fixWidth(t vtype) {
	if t.size >= 8 || t.str {
		return
	}
	shift := int32(64 - 8*t.size)
	if t.signed {
		g.emit(asm.LSh.Imm(asm.R0, shift), asm.ArSh.Imm(asm.R0, shift))
		return
	}
	switch t.size {
	case 4:
		g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
	case 2:
		g.emit(asm.And.Imm(asm.R0, 0xffff))
	case 1:
		g.emit(asm.And.Imm(asm.R0, 0xff))
	}
}

// probeRead copies size bytes from the address in R3 to the stack at off.
func (g *prog) probeRead(off int16, size int, fn asm.BuiltinFunc) {
	g.emit(
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(off)),
		asm.Mov.Imm(asm.R2, int32(size)),
		fn.Call(),
	)
}

// typeOf is the type of an expression, without generating code.
func (g *prog) typeOf(n *node) (vtype, error) {
	switch n.op {
	case "num":
		return u64, nil
	case "str":
		return vtype{str: true, char: true, size: len(n.str) + 1}, nil
	case "ident", ".", "->":
		l, err := g.resolveName(n)
		if err != nil {
			return vtype{}, err
		}
		return l.typ, nil
	case "call":
		return g.callType(n)
	case "u!":
		return u64, nil
	case "u-", "u~":
		t, err := g.intType(n.kids[0])
		if err != nil {
			return vtype{}, err
		}
		return vtype{size: 8, signed: t.signed || n.op == "u-"}, nil
	case "==", "!=", "=~", "<", ">", "<=", ">=", "&&", "||":
		return u64, nil
	}
	a, err := g.intType(n.kids[0])
	if err != nil {
		return vtype{}, err
	}
	b, err := g.intType(n.kids[1])
	if err != nil {
		return vtype{}, err
	}
	return vtype{size: 8, signed: a.signed || b.signed}, nil
}

func (g *prog) intType(n *node) (vtype, error) {
	t, err := g.typeOf(n)
	if err != nil {
		return t, err
	}
	if t.str {
		return t, errAt(n.pos, "%s is a %s, not a number", describe(n), t)
	}
	if t.size == 0 {
		return t, errAt(n.pos, "%s is a %s: pick one of its members (%s)", describe(n), typeName(t.btf), memberNames(t.btf))
	}
	return t, nil
}

// describe names an expression in errors.
func describe(n *node) string {
	switch n.op {
	case "ident":
		return n.name
	case ".", "->":
		return describe(n.kids[0]) + n.op + n.name
	case "num":
		return fmt.Sprint(n.num)
	case "str":
		return fmt.Sprintf("%q", n.str)
	case "call":
		return n.name + "(...)"
	}
	return "the expression"
}

func (g *prog) callType(n *node) (vtype, error) {
	switch n.name {
	case "str":
		if len(n.kids) < 1 || len(n.kids) > 2 {
			return vtype{}, errAt(n.pos, "str takes a pointer and an optional size: str(args.filename) or str(args.filename, 32)")
		}
		if _, err := g.intType(n.kids[0]); err != nil {
			return vtype{}, err
		}
		size := 64
		if len(n.kids) == 2 {
			if n.kids[1].op != "num" || n.kids[1].num == 0 || n.kids[1].num > 256 {
				return vtype{}, errAt(n.kids[1].pos, "the size of str must be a number from 1 to 256")
			}
			size = int(n.kids[1].num)
		}
		return vtype{str: true, char: true, size: size}, nil
	}
	return vtype{}, errAt(n.pos, "unknown function %s (known: str)", n.name)
}

// resolveName resolves an identifier or member chain against the probe.
func (g *prog) resolveName(n *node) (*leaf, error) {
	var chain []*node
	for n.op == "." || n.op == "->" {
		chain = append([]*node{n}, chain...)
		n = n.kids[0]
	}
	if n.op != "ident" {
		return nil, errAt(n.pos, "members can only follow names")
	}
	base := n
	name := base.name
	namePos := base.pos
	if name == "args" {
		if len(chain) == 0 {
			return nil, errAt(base.pos, "args needs a field: args.NAME (fields: %s)", g.p.fieldNames())
		}
		name, namePos, chain = chain[0].name, chain[0].pos, chain[1:]
	} else if l, ok, err := g.builtin(name, base.pos); ok || err != nil {
		if err == nil && len(chain) > 0 {
			err = errAt(chain[0].pos, "%s is a built-in %s and has no members", name, l.typ)
		}
		return l, err
	}
	switch g.p.kind {
	case kindTracepoint:
		for _, f := range g.p.fields {
			if f.name != name {
				continue
			}
			if len(chain) > 0 {
				return nil, errAt(chain[0].pos, "tracepoint field %s (%s) has no members: only raw_tp and tp_btf arguments are typed", name, f.typ)
			}
			t := vtype{size: f.size, signed: f.signed}
			switch {
			case f.dataLoc:
				t = vtype{str: true, char: f.char, size: 64}
			case f.array:
				t = vtype{str: true, char: f.char, size: f.size}
			case f.size != 1 && f.size != 2 && f.size != 4 && f.size != 8:
				return nil, errAt(namePos, "field %s has %d bytes, which is not a number size", name, f.size)
			}
			return &leaf{kind: leafField, field: f, typ: t}, nil
		}
		return nil, errAt(namePos, "tracepoint %s has no field %s (fields: %s)", g.p.target, name, g.p.fieldNames())
	case kindRawTP, kindTPBTF:
		for i, a := range g.p.args {
			if a.name == name {
				return g.argPath(i, a, chain)
			}
		}
		return nil, errAt(namePos, "%s %s has no argument %s (arguments: %s)", g.p.kind, g.p.target, name, g.p.fieldNames())
	case kindUprobe, kindUretprobe, kindKprobe, kindKretprobe:
		return nil, errAt(namePos, "unknown name %s: %s probes offer arg0..arg5%s and the built-ins (%s)", name, g.p.kind, retvalNote(g.p.kind), builtinList())
	}
	return nil, errAt(namePos, "unknown name %s: perf events offer only the built-ins (%s)", name, builtinList())
}

func retvalNote(kind string) string {
	if kind == kindUretprobe || kind == kindKretprobe {
		return ", retval"
	}
	return ""
}

func builtinList() string {
	return "pid, tgid, tid, uid, gid, cpu, cgroup, comm, nsecs, elapsed"
}

// builtin resolves a built-in name; ok is false when name is not one here.
func (g *prog) builtin(name string, pos int) (*leaf, bool, error) {
	if t, ok := builtinTypes[name]; ok {
		return &leaf{kind: leafBuiltin, builtin: name, typ: t}, true, nil
	}
	switch name {
	case "elapsed":
		if g.elapsedOff == 0 {
			return nil, true, errAt(pos, "elapsed is only known in a metric with start and end probes")
		}
		return &leaf{kind: leafBuiltin, builtin: name, typ: u64}, true, nil
	case "retval":
		switch g.p.kind {
		case kindUretprobe, kindKretprobe:
			return &leaf{kind: leafReg, regOff: regOffsets[name], typ: vtype{size: 8, signed: true}}, true, nil
		case kindTracepoint:
			if g.hasField("ret") {
				return nil, false, nil
			}
		}
		return nil, true, errAt(pos, "retval is only for uretprobe and kretprobe probes (syscall exit tracepoints have the field ret)")
	case "arg0", "arg1", "arg2", "arg3", "arg4", "arg5":
		switch g.p.kind {
		case kindUprobe, kindUretprobe, kindKprobe, kindKretprobe:
			return &leaf{kind: leafReg, regOff: regOffsets[name], typ: u64}, true, nil
		case kindRawTP, kindTPBTF:
			i := int(name[3] - '0')
			if i >= len(g.p.args) {
				return nil, true, errAt(pos, "%s %s has %d arguments", g.p.kind, g.p.target, len(g.p.args))
			}
			return nil, false, nil
		}
	}
	return nil, false, nil
}

func (g *prog) hasField(name string) bool {
	for _, f := range g.p.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

// argPath resolves args.NAME->member.member... of a raw_tp or tp_btf.
func (g *prog) argPath(i int, a btfArg, chain []*node) (*leaf, error) {
	l := &leaf{kind: leafArg, arg: i}
	typ := a.typ
	inReg := true
	var cur access
	path := a.name
	for _, c := range chain {
		if !inReg && pointee(typ) == nil {
			// A member of a struct in memory: the same load, further on.
			off, mt, ok, err := findMember(typ, c.name)
			if err != nil {
				return nil, errAt(c.pos, "%s: %v", path, err)
			}
			if !ok {
				return nil, errAt(c.pos, "%s is %s and has no member %s", path, typeName(typ), c.name)
			}
			cur.off += off
			typ = mt
		} else {
			// A member behind a pointer: the argument itself, or a pointer
			// in memory that must be loaded first.
			if !inReg {
				l.derefs = append(l.derefs, cur)
			}
			s := pointee(typ)
			if s == nil {
				return nil, errAt(c.pos, "%s is %s, not a pointer to a struct: it has no member %s", path, typeName(typ), c.name)
			}
			off, mt, ok, err := findMember(s, c.name)
			if err != nil {
				return nil, errAt(c.pos, "%s: %v", path, err)
			}
			if !ok {
				return nil, errAt(c.pos, "%s has no member %s (%s has: %s)", path, c.name, typeName(s), memberNames(s))
			}
			cur = access{off: off, direct: g.p.kind == kindTPBTF}
			typ, inReg = mt, false
		}
		path += c.op + c.name
	}
	if !inReg {
		c := cur
		l.final = &c
	}
	t, err := btfValueType(typ)
	if err != nil {
		return nil, errAt(chain0pos(chain), "%s: %v", path, err)
	}
	l.typ = t
	return l, nil
}

func chain0pos(chain []*node) int {
	if len(chain) == 0 {
		return 0
	}
	return chain[len(chain)-1].pos
}

// genInt generates n into R0 and returns its type.
func (g *prog) genInt(n *node) (vtype, error) {
	switch n.op {
	case "num":
		if n.num <= math.MaxInt32 {
			g.emit(asm.Mov.Imm(asm.R0, int32(n.num)))
		} else {
			g.emit(asm.LoadImm(asm.R0, int64(n.num), asm.DWord))
		}
		return u64, nil
	case "str":
		return vtype{}, errAt(n.pos, "the string %q can only be compared with ==, != or =~", n.str)
	case "ident", ".", "->":
		l, err := g.resolveName(n)
		if err != nil {
			return vtype{}, err
		}
		if l.typ.str {
			return vtype{}, errAt(n.pos, "%s is a %s, not a number: compare it with ==, != or =~ \"prefix*\"", describe(n), l.typ)
		}
		if l.typ.size == 0 {
			return vtype{}, errAt(n.pos, "%s is a %s: pick one of its members (%s)", describe(n), typeName(l.typ.btf), memberNames(l.typ.btf))
		}
		return l.typ, g.loadLeaf(l)
	case "call":
		return vtype{}, errAt(n.pos, "%s(...) is a string, not a number", n.name)
	case "u!":
		if _, err := g.genInt(n.kids[0]); err != nil {
			return vtype{}, err
		}
		g.setBool(asm.JEq, int32(0))
		return u64, nil
	case "u-":
		t, err := g.genInt(n.kids[0])
		if err != nil {
			return t, err
		}
		g.emit(asm.Neg.Imm(asm.R0, 0))
		return vtype{size: 8, signed: true}, nil
	case "u~":
		t, err := g.genInt(n.kids[0])
		if err != nil {
			return t, err
		}
		g.emit(asm.Xor.Imm(asm.R0, -1))
		return vtype{size: 8, signed: t.signed}, nil
	case "&&", "||":
		end := g.newLabel()
		if _, err := g.genInt(n.kids[0]); err != nil {
			return vtype{}, err
		}
		if n.op == "&&" {
			g.emit(asm.JEq.Imm(asm.R0, 0, end))
			if _, err := g.genInt(n.kids[1]); err != nil {
				return vtype{}, err
			}
			g.emit(asm.JEq.Imm(asm.R0, 0, end))
			g.emit(asm.Mov.Imm(asm.R0, 1))
		} else {
			yes := g.newLabel()
			g.emit(asm.JNE.Imm(asm.R0, 0, yes))
			if _, err := g.genInt(n.kids[1]); err != nil {
				return vtype{}, err
			}
			g.emit(asm.JEq.Imm(asm.R0, 0, end))
			g.label(yes)
			g.emit(asm.Mov.Imm(asm.R0, 1))
		}
		g.label(end)
		return u64, nil
	case "==", "!=", "=~":
		lt, err := g.typeOf(n.kids[0])
		if err != nil {
			return vtype{}, err
		}
		rt, err := g.typeOf(n.kids[1])
		if err != nil {
			return vtype{}, err
		}
		if lt.str || rt.str || n.op == "=~" {
			return u64, g.genStrCompare(n, lt, rt)
		}
	}
	if _, ok := precedence[n.op]; !ok || len(n.kids) != 2 {
		return vtype{}, errAt(n.pos, "unsupported expression %q", n.op)
	}
	// A binary operator on numbers.
	lt, err := g.genInt(n.kids[0])
	if err != nil {
		return vtype{}, err
	}
	right := n.kids[1]
	var src asm.Source = asm.RegSource
	var imm int32
	if right.op == "num" && right.num <= math.MaxInt32 {
		src, imm = asm.ImmSource, int32(right.num)
		if right.num == 0 && (n.op == "/" || n.op == "%") {
			return vtype{}, errAt(right.pos, "division by zero")
		}
	} else {
		slot, err := g.alloc(8)
		if err != nil {
			return vtype{}, err
		}
		g.emit(asm.StoreMem(asm.RFP, slot, asm.R0, asm.DWord))
		rt, err := g.genInt(right)
		if err != nil {
			return vtype{}, err
		}
		lt.signed = lt.signed || rt.signed
		g.emit(asm.Mov.Reg(asm.R1, asm.R0), asm.LoadMem(asm.R0, asm.RFP, slot, asm.DWord))
	}
	alu := map[string]asm.ALUOp{"+": asm.Add, "-": asm.Sub, "*": asm.Mul, "/": asm.Div, "%": asm.Mod,
		"&": asm.And, "|": asm.Or, "^": asm.Xor, "<<": asm.LSh, ">>": asm.RSh}
	if op, ok := alu[n.op]; ok {
		if src == asm.ImmSource {
			g.emit(op.Imm(asm.R0, imm))
		} else {
			g.emit(op.Reg(asm.R0, asm.R1))
		}
		return vtype{size: 8, signed: lt.signed}, nil
	}
	jumps := map[string][2]asm.JumpOp{
		"==": {asm.JEq, asm.JEq}, "!=": {asm.JNE, asm.JNE},
		"<": {asm.JLT, asm.JSLT}, ">": {asm.JGT, asm.JSGT}, "<=": {asm.JLE, asm.JSLE}, ">=": {asm.JGE, asm.JSGE},
	}
	j, ok := jumps[n.op]
	if !ok {
		return vtype{}, errAt(n.pos, "unsupported operator %s", n.op)
	}
	op := j[0]
	if lt.signed {
		op = j[1]
	}
	if src == asm.ImmSource {
		g.setBool(op, imm)
	} else {
		g.setBool(op, asm.R1)
	}
	return u64, nil
}

// setBool sets R0 to 1 when "R0 op operand" holds, else 0.
func (g *prog) setBool(op asm.JumpOp, operand any) {
	yes, end := g.newLabel(), g.newLabel()
	switch v := operand.(type) {
	case asm.Register:
		g.emit(op.Reg(asm.R0, v, yes))
	case int32:
		g.emit(op.Imm(asm.R0, v, yes))
	}
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Ja.Label(end))
	g.label(yes)
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.label(end)
}

// loadLeaf generates a number leaf into R0.
func (g *prog) loadLeaf(l *leaf) error {
	switch l.kind {
	case leafBuiltin:
		switch l.builtin {
		case "pid", "tgid":
			g.emit(asm.FnGetCurrentPidTgid.Call(), asm.RSh.Imm(asm.R0, 32))
		case "tid":
			g.emit(asm.FnGetCurrentPidTgid.Call(), asm.Mov.Reg32(asm.R0, asm.R0))
		case "uid":
			g.emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg32(asm.R0, asm.R0))
		case "gid":
			g.emit(asm.FnGetCurrentUidGid.Call(), asm.RSh.Imm(asm.R0, 32))
		case "cpu":
			g.emit(asm.FnGetSmpProcessorId.Call())
		case "cgroup":
			g.emit(asm.FnGetCurrentCgroupId.Call())
		case "nsecs":
			g.emit(asm.FnKtimeGetNs.Call())
		case "elapsed":
			g.emit(asm.LoadMem(asm.R0, asm.RFP, g.elapsedOff, asm.DWord))
		default:
			return fmt.Errorf("built-in %s is not a number", l.builtin)
		}
		return nil
	case leafReg:
		g.emit(asm.LoadMem(asm.R0, ctxReg, l.regOff, asm.DWord))
		g.fixWidth(l.typ)
		return nil
	case leafField:
		f := l.field
		if f.offset >= 8 && f.offset%f.size == 0 {
			g.emit(asm.LoadMem(asm.R0, ctxReg, int16(f.offset), sizeOf(f.size)))
		} else {
			tmp, err := g.alloc(8)
			if err != nil {
				return err
			}
			g.emit(asm.Mov.Reg(asm.R3, ctxReg), asm.Add.Imm(asm.R3, int32(f.offset)))
			g.probeRead(tmp, f.size, asm.FnProbeReadKernel)
			g.emit(asm.LoadMem(asm.R0, asm.RFP, tmp, sizeOf(f.size)))
		}
		if f.signed {
			g.fixWidth(l.typ)
		}
		return nil
	case leafArg:
		if err := g.loadArgPointer(l); err != nil {
			return err
		}
		if l.final != nil {
			if err := g.readAt(*l.final, l.typ.size); err != nil {
				return err
			}
		}
		g.fixWidth(l.typ)
		return nil
	}
	return fmt.Errorf("unknown leaf")
}

// loadArgPointer loads an argument and follows l.derefs, leaving the
// pointer that l.final reads from (or the argument itself) in R0.
func (g *prog) loadArgPointer(l *leaf) error {
	g.emit(asm.LoadMem(asm.R0, ctxReg, int16(8*l.arg), asm.DWord))
	for _, d := range l.derefs {
		if err := g.readAt(d, 8); err != nil {
			return err
		}
	}
	return nil
}

// readAt replaces R0 with the size-byte value at R0+a.off.
func (g *prog) readAt(a access, size int) error {
	if a.direct && a.off <= math.MaxInt16 {
		g.emit(asm.LoadMem(asm.R0, asm.R0, int16(a.off), sizeOf(size)))
		return nil
	}
	tmp, err := g.alloc(8)
	if err != nil {
		return err
	}
	g.emit(asm.Mov.Reg(asm.R3, asm.R0), asm.Add.Imm(asm.R3, int32(a.off)))
	g.probeRead(tmp, size, asm.FnProbeReadKernel)
	g.emit(asm.LoadMem(asm.R0, asm.RFP, tmp, sizeOf(size)))
	return nil
}

// genStr writes the string n into size bytes of stack at off. The bytes
// after the string's end are left as they were (labels zero their key
// first); comparisons only look up to the literal's end.
func (g *prog) genStr(n *node, off int16, size int) error {
	if n.op == "call" {
		if _, err := g.callType(n); err != nil {
			return err
		}
		if _, err := g.genInt(n.kids[0]); err != nil {
			return err
		}
		fn := asm.FnProbeReadKernelStr
		if g.p.kind == kindUprobe || g.p.kind == kindUretprobe || strings.HasPrefix(g.p.target, "syscalls/") {
			fn = asm.FnProbeReadUserStr
		}
		g.emit(asm.Mov.Reg(asm.R3, asm.R0))
		g.probeRead(off, size, fn)
		return nil
	}
	l, err := g.resolveName(n)
	if err != nil {
		return err
	}
	if !l.typ.str {
		return errAt(n.pos, "%s is a number (%s), not a string", describe(n), l.typ)
	}
	readFn := asm.FnProbeReadKernel
	if l.typ.char {
		readFn = asm.FnProbeReadKernelStr
	}
	size = min(size, l.typ.size)
	switch l.kind {
	case leafBuiltin: // comm
		g.emit(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, int32(off)), asm.Mov.Imm(asm.R2, int32(size)), asm.FnGetCurrentComm.Call())
	case leafField:
		f := l.field
		if f.dataLoc {
			g.emit(asm.LoadMem(asm.R3, ctxReg, int16(f.offset), asm.Word),
				asm.And.Imm(asm.R3, 0xffff),
				asm.Add.Reg(asm.R3, ctxReg))
		} else {
			g.emit(asm.Mov.Reg(asm.R3, ctxReg), asm.Add.Imm(asm.R3, int32(f.offset)))
		}
		g.probeRead(off, size, readFn)
	case leafArg:
		if err := g.loadArgPointer(l); err != nil {
			return err
		}
		g.emit(asm.Mov.Reg(asm.R3, asm.R0), asm.Add.Imm(asm.R3, int32(l.final.off)))
		g.probeRead(off, size, readFn)
	default:
		return errAt(n.pos, "%s is not a string", describe(n))
	}
	return nil
}

// genStrCompare compares a string with a literal: == and != exactly, =~
// with a glob whose only wildcard is a trailing * (a prefix match).
func (g *prog) genStrCompare(n *node, lt, rt vtype) error {
	s, lit := n.kids[0], n.kids[1]
	st := lt
	if s.op == "str" {
		s, lit, st = lit, s, rt
	}
	if lit.op != "str" {
		return errAt(n.pos, "%s compares %s with %s: strings can only be compared with a string literal, like comm == \"bash\"", n.op, describe(n.kids[0]), describe(n.kids[1]))
	}
	if !st.str {
		return errAt(s.pos, "%s is a number (%s); it cannot be compared with the string %q", describe(s), st, lit.str)
	}
	text := lit.str
	prefix := false
	if n.op == "=~" {
		if strings.HasSuffix(text, "*") {
			text, prefix = strings.TrimSuffix(text, "*"), true
		}
		if strings.ContainsAny(text, "*?[") {
			return errAt(lit.pos, "the pattern %q has a wildcard before its end: =~ only supports a trailing *, a prefix match", lit.str)
		}
	}
	want := []byte(text)
	if !prefix {
		want = append(want, 0)
	}
	if len(want) > st.size {
		return errAt(lit.pos, "%q is longer than %s can hold (%s: at most %d characters)", lit.str, describe(s), st, st.size-1)
	}
	buf, err := g.alloc(st.size)
	if err != nil {
		return err
	}
	if err := g.genStr(s, buf, st.size); err != nil {
		return err
	}
	differ, end := g.newLabel(), g.newLabel()
	for i := 0; i < len(want); {
		chunk := 8
		for chunk > len(want)-i || (i%chunk) != 0 {
			chunk /= 2
		}
		var v uint64
		for k := chunk - 1; k >= 0; k-- {
			v = v<<8 | uint64(want[i+k])
		}
		g.emit(asm.LoadMem(asm.R1, asm.RFP, buf+int16(i), sizeOf(chunk)))
		if v <= math.MaxInt32 {
			g.emit(asm.JNE.Imm(asm.R1, int32(v), differ))
		} else {
			g.emit(asm.LoadImm(asm.R2, int64(v), asm.DWord), asm.JNE.Reg(asm.R1, asm.R2, differ))
		}
		i += chunk
	}
	equal, notEqual := int32(1), int32(0)
	if n.op == "!=" {
		equal, notEqual = 0, 1
	}
	g.emit(asm.Mov.Imm(asm.R0, equal), asm.Ja.Label(end))
	g.label(differ)
	g.emit(asm.Mov.Imm(asm.R0, notEqual))
	g.label(end)
	return nil
}

// filter generates "exit unless n holds".
func (g *prog) filter(n *node) error {
	if _, err := g.genInt(n); err != nil {
		return err
	}
	g.emit(asm.JEq.Imm(asm.R0, 0, "exit"))
	return nil
}

// mapUpdate adds the u64 at stack valOff to the map entry of the key at
// keyOff, creating it; when the map is full it counts a drop at index
// dropIdx of the drops map.
func (g *prog) mapAdd(mapName string, keyOff, valOff int16, dropIdx int) {
	miss, done, drop := g.newLabel(), g.newLabel(), g.newLabel()
	lookup := func() {
		g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapName),
			asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, int32(keyOff)),
			asm.FnMapLookupElem.Call())
	}
	lookup()
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	add := g.newLabel()
	g.label(add)
	g.emit(asm.LoadMem(asm.R1, asm.RFP, valOff, asm.DWord),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Ja.Label(done))
	g.label(miss)
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(mapName),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, int32(keyOff)),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, int32(valOff)),
		asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST
		asm.FnMapUpdateElem.Call(),
		asm.JEq.Imm(asm.R0, 0, done),
		asm.JNE.Imm(asm.R0, -17, drop)) // -EEXIST: another CPU created it
	lookup()
	g.emit(asm.JNE.Imm(asm.R0, 0, add))
	g.label(drop)
	g.countDrop(dropIdx)
	g.label(done)
}

// countDrop adds 1 to index idx of the drops map.
func (g *prog) countDrop(idx int) {
	done := g.newLabel()
	g.emit(asm.StoreImm(asm.RFP, -8, int64(idx), asm.Word), // the first slot is reserved for this
		asm.LoadMapPtr(asm.R1, 0).WithReference(dropsMap),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, done),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.label(done)
}

// storeImm64 stores a sign-extended 32-bit immediate as a u64 on the stack
// (asm.StoreImm refuses DWord, the kernel does not).
func storeImm64(off int16, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: off, Constant: int64(v)}
}
