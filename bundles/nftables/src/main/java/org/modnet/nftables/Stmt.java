package org.modnet.nftables;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One statement of a rule as nft parses it (a match, {@code counter}, {@code log}, a verdict, ...): it
 * prints itself as {@code nft list} does and compiles to nf_tables expressions.
 */
interface Stmt {
    String print();

    void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
            Consumer<String> log);

    /** A header field or key nft names ({@code ip saddr}, {@code tcp dport}, {@code ct state}). */
    enum Field {
        IP_SADDR("ip saddr", false, 12, 4, Type.ADDR, -1),
        IP_DADDR("ip daddr", false, 16, 4, Type.ADDR, -1),
        IP_PROTOCOL("ip protocol", false, 9, 1, Type.PROTO, -1),
        TCP_SPORT("tcp sport", true, 0, 2, Type.PORT, 6),
        TCP_DPORT("tcp dport", true, 2, 2, Type.PORT, 6),
        UDP_SPORT("udp sport", true, 0, 2, Type.PORT, 17),
        UDP_DPORT("udp dport", true, 2, 2, Type.PORT, 17),
        ICMP_TYPE("icmp type", true, 0, 1, Type.ICMP, 1),
        META_L4PROTO("meta l4proto", false, 0, 0, Type.PROTO, -1),
        CT_STATE("ct state", false, 0, 0, Type.CTSTATE, -1);

        final String words;
        final boolean transport;
        final int off, len;
        final Type type;
        /** The l4proto this field needs (nft adds the dependency itself), or -1. */
        final int needs;

        Field(String words, boolean transport, int off, int len, Type type, int needs) {
            this.words = words;
            this.transport = transport;
            this.off = off;
            this.len = len;
            this.type = type;
            this.needs = needs;
        }
    }

    enum Type {
        ADDR, PORT, PROTO, ICMP, CTSTATE
    }

    /** How the right-hand side was written. */
    enum Rhs {
        VALUE, PREFIX, RANGE, SET, NAMED, FLAGS
    }

    /** {@code FIELD [!=] RHS}. For PREFIX {@code b} is the length; for RANGE {@code a-b}; SET holds {@code elems}. */
    record Match(Field field, boolean neq, Rhs rhs, long a, long b, long[][] elems, String setName) implements Stmt {
        @Override
        public String print() {
            StringBuilder s = new StringBuilder(field.words).append(' ');
            if (neq) {
                s.append("!= ");
            }
            switch (rhs) {
                case VALUE -> s.append(Values.print(field.type, a));
                case PREFIX -> s.append(Values.print(field.type, a)).append('/').append(b);
                case RANGE -> s.append(Values.print(field.type, a)).append('-').append(Values.print(field.type, b));
                case NAMED -> s.append('@').append(setName);
                case FLAGS -> s.append(Values.ctStates(a, ","));
                case SET -> {
                    s.append("{ ");
                    for (int i = 0; i < elems.length; i++) {
                        s.append(i > 0 ? ", " : "").append(Values.print(field.type, elems[i][0]));
                        if (elems[i][1] != elems[i][0]) {
                            s.append(Values.printRange(field.type, elems[i]));
                        }
                    }
                    s.append(" }");
                }
                default -> { }
            }
            return s.toString();
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            if (field.needs >= 0) {
                out.add(new Expr.MetaL4proto(1));
                out.add(new Expr.Cmp(1, field.needs, false));
            }
            switch (field) {
                case META_L4PROTO -> out.add(new Expr.MetaL4proto(1));
                case CT_STATE -> out.add(new Expr.CtState(1));
                default -> out.add(new Expr.Payload(field.transport, field.off, field.len, 1));
            }
            switch (rhs) {
                case VALUE -> out.add(new Expr.Cmp(1, (int) a, neq));
                case PREFIX -> {
                    int mask = b == 0 ? 0 : (int) (0xffffffffL << (32 - b));
                    out.add(new Expr.Bitwise(1, 1, mask, 0));
                    out.add(new Expr.Cmp(1, (int) a & mask, neq));
                }
                case RANGE -> out.add(new Expr.Range(1, (int) a, (int) b, neq));
                case FLAGS -> {
                    out.add(new Expr.Bitwise(1, 1, (int) a, 0));
                    out.add(new Expr.Cmp(1, 0, !neq));
                }
                case SET -> {
                    boolean interval = false;
                    for (long[] e : elems) {
                        interval |= e[0] != e[1];
                    }
                    out.add(new Expr.Lookup(1, Ruleset.setData(List.of(elems), interval), neq));
                }
                case NAMED -> out.add(new Expr.Lookup(1, sets.get(setName), neq));
                default -> { }
            }
        }
    }

    /** {@code iifname|oifname [!=] "NAME"} (and iif/oif, matched by name here). */
    record Ifname(String key, boolean neq, String name) implements Stmt {
        @Override
        public String print() {
            return key + (neq ? " != " : " ") + "\"" + name + "\"";
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            out.add(new Expr.MetaIfname(key.startsWith("o"), name, neq));
        }
    }

    /** {@code counter}: its counter is made once, with the rule, and so carries over every recompile. */
    record Counter(Expr.Counter c) implements Stmt {
        @Override
        public String print() {
            return "counter packets " + c.packets.get() + " bytes " + c.bytes.get();
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            out.add(c);
        }
    }

    record Log(String prefix) implements Stmt {
        @Override
        public String print() {
            return prefix == null ? "log" : "log prefix \"" + prefix + "\"";
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            out.add(new Expr.Log(prefix, log));
        }
    }

    /** accept, drop, return, jump CHAIN, goto CHAIN. */
    record Verdict(String word, String chain) implements Stmt {
        @Override
        public String print() {
            return chain == null ? word : word + " " + chain;
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            int code = switch (word) {
                case "accept" -> Regs.ACCEPT;
                case "drop" -> Regs.DROP;
                case "return" -> Regs.RETURN;
                case "jump" -> Regs.JUMP;
                default -> Regs.GOTO;
            };
            out.add(new Expr.Immediate(code, chain == null ? -1 : chains.get(chain)));
        }
    }

    /** {@code reject [with icmp TYPE | with tcp reset]}; {@code how} is what nft prints after reject. */
    record Reject(String how, int code, boolean tcpReset) implements Stmt {
        @Override
        public String print() {
            return how.isEmpty() ? "reject" : "reject " + how;
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            out.add(new Expr.Reject(code, tcpReset, rejecter));
        }
    }

    /** masquerade, {@code snat to ADDR[:PORT]}, {@code dnat to ADDR[:PORT]}. */
    record Nat(int kind, int addr, int port) implements Stmt {
        @Override
        public String print() {
            if (kind == Expr.Nat.MASQ) {
                return "masquerade";
            }
            return (kind == Expr.Nat.SNAT ? "snat to " : "dnat to ") + LogLine.addr(addr) + (port != 0 ? ":" + port : "");
        }

        @Override
        public void compile(List<Expr> out, Map<String, Integer> chains, Map<String, SetData> sets, Expr.Rejecter rejecter,
                Consumer<String> log) {
            out.add(new Expr.Nat(kind, addr, port));
        }
    }
}
