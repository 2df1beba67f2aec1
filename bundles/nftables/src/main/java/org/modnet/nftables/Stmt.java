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

    void compile(List<Expr> out, Ctx ctx);

    /** The named set or map this statement looks up, or null. */
    default String setName() {
        return null;
    }

    /** The chains this statement may jump or go to (its verdict, its verdict map's elements). */
    default List<String> targets(Ruleset.Table t) {
        return List.of();
    }

    /** What compiling a rule needs from its table: chain indexes, the named sets compiled, and the instance's services. */
    record Ctx(Map<String, Integer> chains, Map<String, SetData> sets, Map<String, Ruleset.NSet> nsets, Expr.Rejecter rejecter,
            Consumer<String> log) {
        /** The named set's lookup: its elements with timeouts, or its compiled form. */
        Expr lookup(String name, boolean inv) {
            Ruleset.NSet s = nsets.get(name);
            return s != null && s.dyn != null ? new Expr.DynLookup(1, s.dyn, inv) : new Expr.Lookup(1, sets.get(name), inv);
        }
    }

    /** The loads of {@code fields} into registers 1.. (a concatenation: one register per part), their protocol checks first. */
    static void load(List<Field> fields, List<Expr> out) {
        for (Field f : fields) {
            if (f.needs >= 0) {
                out.add(new Expr.MetaL4proto(1));
                out.add(new Expr.Cmp(1, f.needs, false));
            }
        }
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            int reg = 1 + i;
            switch (f) {
                case META_L4PROTO -> out.add(new Expr.MetaL4proto(reg));
                case CT_STATE -> out.add(new Expr.CtState(reg));
                case META_MARK -> out.add(new Expr.MetaMark(reg));
                case CT_MARK -> out.add(new Expr.CtMark(reg));
                case CT_ZONE -> out.add(new Expr.CtZone(reg));
                case CT_STATUS -> out.add(new Expr.CtStatus(reg));
                case META_PKTTYPE -> out.add(new Expr.MetaPkttype(reg));
                default -> out.add(new Expr.Payload(f.transport, f.off, f.len, reg));
            }
        }
    }

    static String words(List<Field> fields) {
        StringBuilder b = new StringBuilder();
        for (Field f : fields) {
            b.append(b.isEmpty() ? "" : " . ").append(f.words);
        }
        return b.toString();
    }

    static List<Type> types(List<Field> fields) {
        return fields.stream().map(f -> f.type).toList();
    }

    /** An anonymous set or map as nft lists it in a rule: {@code { a, b }} on one line. */
    static String anonymous(List<Elem> elems, List<Type> key, List<Type> data) {
        StringBuilder b = new StringBuilder("{ ");
        for (int i = 0; i < elems.size(); i++) {
            b.append(i > 0 ? ", " : "").append(elems.get(i).print(key, data));
        }
        return b.append(" }").toString();
    }

    static boolean interval(List<Elem> elems) {
        for (Elem e : elems) {
            if (e.range()) {
                return true;
            }
        }
        return false;
    }
    /** A header field or key nft names ({@code ip saddr}, {@code tcp dport}, {@code ct state}). */
    enum Field {
        IP_SADDR("ip saddr", false, 12, 4, Type.ADDR, -1),
        IP_DADDR("ip daddr", false, 16, 4, Type.ADDR, -1),
        IP_PROTOCOL("ip protocol", false, 9, 1, Type.PROTO, -1),
        TCP_SPORT("tcp sport", true, 0, 2, Type.PORT, 6),
        TCP_DPORT("tcp dport", true, 2, 2, Type.PORT, 6),
        UDP_SPORT("udp sport", true, 0, 2, Type.PORT, 17),
        UDP_DPORT("udp dport", true, 2, 2, Type.PORT, 17),
        /** The transport header's ports whatever the protocol (nft's {@code th}): no protocol dependency. */
        TH_SPORT("th sport", true, 0, 2, Type.PORT, -1),
        TH_DPORT("th dport", true, 2, 2, Type.PORT, -1),
        UDPLITE_SPORT("udplite sport", true, 0, 2, Type.PORT, 136),
        UDPLITE_DPORT("udplite dport", true, 2, 2, Type.PORT, 136),
        SCTP_SPORT("sctp sport", true, 0, 2, Type.PORT, 132),
        SCTP_DPORT("sctp dport", true, 2, 2, Type.PORT, 132),
        DCCP_SPORT("dccp sport", true, 0, 2, Type.PORT, 33),
        DCCP_DPORT("dccp dport", true, 2, 2, Type.PORT, 33),
        ICMP_TYPE("icmp type", true, 0, 1, Type.ICMP, 1),
        META_L4PROTO("meta l4proto", false, 0, 0, Type.PROTO, -1),
        CT_STATE("ct state", false, 0, 0, Type.CTSTATE, -1),
        META_MARK("meta mark", false, 0, 0, Type.MARK, -1),
        CT_MARK("ct mark", false, 0, 0, Type.MARK, -1),
        /** The connection's IPS_* status bits (nft's ct_status type). */
        CT_STATUS("ct status", false, 0, 0, Type.CTSTATUS, -1),
        /** skb->pkt_type (PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3). */
        META_PKTTYPE("meta pkttype", false, 0, 0, Type.PKTTYPE, -1),
        /** A 16-bit number written and printed in decimal, as an inet_service is (nft's ct_zone type). */
        CT_ZONE("ct zone", false, 0, 0, Type.PORT, -1);

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
        ADDR, PORT, PROTO, ICMP, CTSTATE, MARK, CTSTATUS, PKTTYPE
    }

    /** How the right-hand side was written. */
    enum Rhs {
        VALUE, PREFIX, RANGE, SET, NAMED, FLAGS
    }

    /** {@code FIELD [!=] RHS}. For PREFIX {@code b} is the length; for RANGE {@code a-b}; SET holds {@code elems}. */
    record Match(Field field, boolean neq, Rhs rhs, long a, long b, List<Elem> elems, String setName) implements Stmt {
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
                case FLAGS -> s.append(Values.print(field.type, a));
                case SET -> s.append(anonymous(elems, List.of(field.type), null));
                default -> { }
            }
            return s.toString();
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            load(List.of(field), out);
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
                case SET -> out.add(new Expr.Lookup(1, SetData.build(elems, interval(elems), 1, 0, null), neq));
                case NAMED -> out.add(ctx.lookup(setName, neq));
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
        public void compile(List<Expr> out, Ctx ctx) {
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
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(c);
        }
    }

    /** {@code counter name "NAME"}: the named counter object, whose counter is looked up when the rule is read. */
    record NamedCounter(String name, Expr.Counter c) implements Stmt {
        @Override
        public String print() {
            return "counter name \"" + name + "\"";
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(c);
        }
    }

    /** {@code limit name "NAME"}: the named limit object's bucket, shared by every rule naming it. */
    record NamedLimit(String name, Limit l) implements Stmt {
        @Override
        public String print() {
            return "limit name \"" + name + "\"";
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(l.bucket());
        }
    }

    /** {@code quota name "NAME"}: the named quota object's state, shared by every rule naming it. */
    record NamedQuota(String name, Expr.Quota q) implements Stmt {
        @Override
        public String print() {
            return "quota name \"" + name + "\"";
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(q);
        }
    }

    /** {@code quota [over] N UNIT [used N UNIT]}, an anonymous quota: its state is made with the rule and carries over every recompile. */
    record Quota(Expr.Quota q) implements Stmt {
        @Override
        public String print() {
            long used = q.consumed.get();
            return "quota " + (q.over ? "over " : "") + Values.bytesUnit(q.bytes) + (used > 0 ? " used " + Values.bytesUnit(used) : "");
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(q);
        }
    }

    record Log(String prefix) implements Stmt {
        @Override
        public String print() {
            return prefix == null ? "log" : "log prefix \"" + prefix + "\"";
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.Log(prefix, ctx.log()));
        }
    }

    /** {@code queue [num N] [bypass]}, listed as nft 1.0.6 does: {@code queue [flags bypass] to N}. */
    record Queue(int num, boolean bypass) implements Stmt {
        @Override
        public String print() {
            return "queue" + (bypass ? " flags bypass" : "") + " to " + num;
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.Queue(num, bypass));
        }
    }

    /** accept, drop, return, jump CHAIN, goto CHAIN. */
    record Verdict(String word, String chain) implements Stmt {
        @Override
        public String print() {
            return chain == null ? word : word + " " + chain;
        }

        int code() {
            return switch (word) {
                case "accept" -> Regs.ACCEPT;
                case "drop" -> Regs.DROP;
                case "return" -> Regs.RETURN;
                case "jump" -> Regs.JUMP;
                default -> Regs.GOTO;
            };
        }

        @Override
        public List<String> targets(Ruleset.Table t) {
            return chain == null ? List.of() : List.of(chain);
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.Immediate(code(), chain == null ? -1 : ctx.chains().get(chain)));
        }
    }

    /** {@code reject [with icmp TYPE | with tcp reset]}; {@code how} is what nft prints after reject. */
    record Reject(String how, int code, boolean tcpReset) implements Stmt {
        @Override
        public String print() {
            return how.isEmpty() ? "reject" : "reject " + how;
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.Reject(code, tcpReset, ctx.rejecter()));
        }
    }

    /**
     * masquerade [to :P[-P]], redirect [to :P[-P]], {@code snat|dnat to A[-A][:P[-P]]}: an address range
     * ({@code addrLo..addrHi}, 0 for masquerade and redirect) and a port range (0..0: the port is kept).
     */
    record Nat(int kind, int addrLo, int addrHi, int portLo, int portHi) implements Stmt {
        Nat(int kind, int addr, int port) {
            this(kind, addr, addr, port, port);
        }

        @Override
        public String print() {
            String ports = portLo == 0 && portHi == 0 ? "" : ":" + portLo + (portHi != portLo ? "-" + portHi : "");
            if (kind == Expr.Nat.MASQ || kind == Expr.Nat.REDIR) {
                return (kind == Expr.Nat.MASQ ? "masquerade" : "redirect") + (ports.isEmpty() ? "" : " to " + ports);
            }
            return (kind == Expr.Nat.SNAT ? "snat to " : "dnat to ") + LogLine.addr(addrLo)
                    + (addrHi != addrLo ? "-" + LogLine.addr(addrHi) : "") + ports;
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.Nat(kind, addrLo, addrHi, portLo, portHi, -1));
        }
    }

    /** {@code KEY . KEY [!=] { ... }} or {@code @set}: a concatenation looked up in a set. */
    record Concat(List<Field> fields, boolean neq, List<Elem> elems, String setName) implements Stmt {
        @Override
        public String print() {
            return words(fields) + (neq ? " != " : " ") + (setName != null ? "@" + setName : anonymous(elems, types(fields), null));
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            load(fields, out);
            if (setName != null) {
                out.add(ctx.lookup(setName, neq));
                return;
            }
            out.add(new Expr.Lookup(1, SetData.build(elems, elems.stream().anyMatch(Elem::range), fields.size(), 0, null), neq));
        }
    }

    /** {@code KEY vmap { k : VERDICT, ... }} or {@code vmap @map}. */
    record Vmap(List<Field> fields, List<Elem> elems, String setName) implements Stmt {
        @Override
        public String print() {
            return words(fields) + " vmap " + (setName != null ? "@" + setName : anonymous(elems, types(fields), null));
        }

        @Override
        public List<String> targets(Ruleset.Table t) {
            List<Elem> l = elems;
            if (setName != null) {
                Ruleset.NSet s = t.sets.get(setName);
                l = s == null ? List.of() : s.elems;
            }
            return l.stream().filter(e -> e.verdict() != null && e.verdict().chain() != null).map(e -> e.verdict().chain()).toList();
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            load(fields, out);
            SetData d = setName != null ? ctx.sets().get(setName)
                    : SetData.build(elems, interval(elems), fields.size(), 0, ctx.chains());
            out.add(new Expr.Vmap(1, d));
        }
    }

    /** {@code KEY map { k : v, ... }} or {@code KEY map @map}: a value looked up, into register 1 (nat's address, a mark). */
    record MapSrc(List<Field> fields, List<Elem> elems, String setName, List<Type> data) {
        String print() {
            return words(fields) + " map " + (setName != null ? "@" + setName : anonymous(elems, types(fields), data));
        }

        void compile(List<Expr> out, Ctx ctx) {
            load(fields, out);
            SetData d = setName != null ? ctx.sets().get(setName)
                    : SetData.build(elems, interval(elems), fields.size(), data.size(), null);
            out.add(new Expr.MapLookup(1, 1, d));
        }
    }

    /**
     * {@code dnat to KEY map { ... }}, {@code snat to KEY map @m}; a map to an address and a port
     * ({@code dnat ip addr . port to KEY map { k : A . P }}) nft lists as {@code dnat ip to KEY map ...}.
     */
    record NatMap(int kind, MapSrc src) implements Stmt {
        @Override
        public String print() {
            return (kind == Expr.Nat.SNAT ? "snat " : "dnat ") + (src.data().size() == 2 ? "ip " : "") + "to " + src.print();
        }

        @Override
        public String setName() {
            return src.setName();
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            src.compile(out, ctx);
            out.add(new Expr.Nat(kind, 0, 0, 0, 0, 1, src.data().size() == 2 ? 2 : -1));
        }
    }

    /**
     * {@code add|update @SET { KEY [timeout T] }} (nft_dynset): the packet's key into the set from the
     * packet path; {@code update} starts an element's time again, {@code add} leaves a live one alone.
     */
    record Dynset(boolean update, String set, List<Field> fields, long timeout) implements Stmt {
        @Override
        public String print() {
            return (update ? "update @" : "add @") + set + " { " + words(fields) + (timeout > 0 ? " timeout " + Values.time(timeout) : "") + " }";
        }

        @Override
        public String setName() {
            return set;
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            load(fields, out);
            Ruleset.NSet s = ctx.nsets().get(set);
            long ms = timeout > 0 ? timeout : s.timeout;
            out.add(new Expr.Dynset(s.dyn, ms * 1_000_000L, timeout, update));
        }
    }

    /** {@code ct zone set N} (nft_ct_set_zone_eval): the packet's flow is tracked in zone N, as CT --zone does. */
    record SetZone(int zone) implements Stmt {
        @Override
        public String print() {
            return "ct zone set " + zone;
        }

        @Override
        public String setName() {
            return null;
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(new Expr.SetZone(new org.modnet.api.netfilter.NfCtTemplate(zone)));
        }
    }

    /** {@code meta mark set V}, {@code ct mark set V}: V a value, the other mark, or a map's data. */
    record SetMark(boolean ct, long value, Field from, MapSrc map) implements Stmt {
        @Override
        public String print() {
            String v = map != null ? map.print() : from != null ? from.words : Values.print(Type.MARK, value);
            return (ct ? "ct" : "meta") + " mark set " + v;
        }

        @Override
        public String setName() {
            return map == null ? null : map.setName();
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            if (map != null) {
                map.compile(out, ctx);
            } else if (from != null) {
                load(List.of(from), out);
            } else {
                out.add(new Expr.Data(1, (int) value));
            }
            out.add(new Expr.SetMark(ct, 1));
        }
    }

    /**
     * {@code limit rate [over] N/UNIT [burst B packets]} or, a byte limit, {@code limit rate [over] N
     * BYTES/UNIT [burst B BYTES]}; its bucket is made with the rule and so carries over every recompile.
     */
    record Limit(long rate, String unit, long burst, boolean over, boolean bytes, Expr bucket) implements Stmt {
        static long unitNanos(String unit) {
            return switch (unit) {
                case "second" -> 1_000_000_000L;
                case "minute" -> 60_000_000_000L;
                case "hour" -> 3_600_000_000_000L;
                case "day" -> 86_400_000_000_000L;
                case "week" -> 604_800_000_000_000L;
                default -> -1;
            };
        }

        static Limit of(long rate, String unit, int burst, boolean over) {
            return new Limit(rate, unit, burst, over, false, new Expr.Limit(unitNanos(unit) / rate, burst, over));
        }

        /** A byte limit: {@code rate} bytes per unit, {@code burst} bytes more in the bucket (nft's default 0). */
        static Limit ofBytes(long rate, String unit, long burst, boolean over) {
            return new Limit(rate, unit, burst, over, true, new Expr.ByteLimit(unitNanos(unit), rate, burst, over));
        }

        @Override
        public String print() {
            if (bytes) {
                return "limit rate " + (over ? "over " : "") + Values.bytesUnit(rate) + "/" + unit
                        + (burst != 0 ? " burst " + Values.bytesUnit(burst) : "");
            }
            // nft leaves out the default burst of 5 packets
            return "limit rate " + (over ? "over " : "") + rate + "/" + unit + (burst != 5 ? " burst " + burst + " packets" : "");
        }

        @Override
        public void compile(List<Expr> out, Ctx ctx) {
            out.add(bucket);
        }
    }
}
