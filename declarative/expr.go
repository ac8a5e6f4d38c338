package declarative

import (
	"fmt"
	"strconv"
	"strings"
)

// node is a parsed expression.
type node struct {
	op   string // "num", "str", "ident", "field", "->", ".", "call", or an operator
	pos  int    // byte offset in the source expression, for errors
	num  uint64
	str  string
	name string // ident / member name
	kids []*node
}

// token kinds
const (
	tokEOF = iota
	tokNum
	tokStr
	tokIdent
	tokOp
)

type token struct {
	kind int
	text string
	pos  int
}

// exprError is a problem in an expression, at a byte offset.
type exprError struct {
	pos int
	msg string
}

func (e *exprError) Error() string { return e.msg }

func errAt(pos int, format string, args ...any) error {
	return &exprError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

var operators = []string{"->", "==", "!=", "=~", "<=", ">=", "&&", "||", "<<", ">>",
	"<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "(", ")", ".", ","}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isIdent(src[j]) || src[j] == 'x' || src[j] == 'X') {
				j++
			}
			toks = append(toks, token{tokNum, src[i:j], i})
			i = j
		case isIdent(c):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, src[i:j], i})
			i = j
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
				j++
			}
			if j >= len(src) {
				return nil, errAt(i, "unterminated string")
			}
			toks = append(toks, token{tokStr, b.String(), i})
			i = j + 1
		default:
			found := false
			for _, op := range operators {
				if strings.HasPrefix(src[i:], op) {
					toks = append(toks, token{tokOp, op, i})
					i += len(op)
					found = true
					break
				}
			}
			if !found {
				return nil, errAt(i, "unexpected character %q", c)
			}
		}
	}
	return append(toks, token{tokEOF, "", len(src)}), nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// precedence of binary operators, C-like; higher binds tighter.
var precedence = map[string]int{
	"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5,
	"==": 6, "!=": 6, "=~": 6,
	"<": 7, ">": 7, "<=": 7, ">=": 7,
	"<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}

type parser struct {
	toks []token
	i    int
}

// parseExpr parses one expression.
func parseExpr(src string) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.binary(1)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(t.pos, "unexpected %q", t.text)
	}
	return n, nil
}

// parseList parses comma-separated expressions (a start/end key).
func parseList(src string) ([]*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	var out []*node
	for {
		n, err := p.binary(1)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		t := p.peek()
		if t.kind == tokEOF {
			return out, nil
		}
		if t.text != "," {
			return nil, errAt(t.pos, "unexpected %q", t.text)
		}
		p.i++
	}
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) binary(minPrec int) (*node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec, ok := precedence[t.text]
		if t.kind != tokOp || !ok || prec < minPrec {
			return left, nil
		}
		p.i++
		right, err := p.binary(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &node{op: t.text, pos: t.pos, kids: []*node{left, right}}
	}
}

func (p *parser) unary() (*node, error) {
	t := p.peek()
	if t.kind == tokOp && (t.text == "!" || t.text == "-" || t.text == "~") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: "u" + t.text, pos: t.pos, kids: []*node{x}}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (*node, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokOp || (t.text != "." && t.text != "->") {
			return n, nil
		}
		p.i++
		m := p.next()
		if m.kind != tokIdent {
			return nil, errAt(m.pos, "expected a field name after %q", t.text)
		}
		n = &node{op: t.text, pos: m.pos, name: m.text, kids: []*node{n}}
	}
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		v, err := strconv.ParseUint(t.text, 0, 64)
		if err != nil {
			return nil, errAt(t.pos, "bad number %q", t.text)
		}
		return &node{op: "num", pos: t.pos, num: v}, nil
	case tokStr:
		return &node{op: "str", pos: t.pos, str: t.text}, nil
	case tokIdent:
		if p.peek().text == "(" {
			p.i++
			n := &node{op: "call", pos: t.pos, name: t.text}
			for p.peek().text != ")" {
				a, err := p.binary(1)
				if err != nil {
					return nil, err
				}
				n.kids = append(n.kids, a)
				if p.peek().text == "," {
					p.i++
				} else if p.peek().text != ")" {
					return nil, errAt(p.peek().pos, "expected , or ) in call of %s", t.text)
				}
			}
			p.i++
			return n, nil
		}
		return &node{op: "ident", pos: t.pos, name: t.text}, nil
	case tokOp:
		if t.text == "(" {
			n, err := p.binary(1)
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.text != ")" {
				return nil, errAt(c.pos, "expected )")
			}
			return n, nil
		}
	case tokEOF:
		return nil, errAt(t.pos, "expression ends too early")
	}
	return nil, errAt(t.pos, "unexpected %q", t.text)
}
