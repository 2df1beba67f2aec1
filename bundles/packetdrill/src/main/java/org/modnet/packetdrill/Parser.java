package org.modnet.packetdrill;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.modnet.packetdrill.Packet.Direction;
import org.modnet.packetdrill.Packet.OuterIp;
import org.modnet.packetdrill.Packet.Ports;
import org.modnet.packetdrill.Token.Kind;

/**
 * The packetdrill script parser: packetdrill's grammar ({@code parser.y}) read by recursive descent,
 * with its checks of meaning and its messages, to an immutable {@link Script}. Every refusal is a
 * {@link ScriptException} whose message is the line packetdrill prints; nothing else is thrown.
 *
 * <p>Beyond {@code parser.y}, two checks packetdrill makes when the run starts are made here, since
 * the script alone decides them: the first event must be at time 0, and absolute times must not go
 * backward.
 */
public final class Parser {
    /** How deep lists, structs and {@code NAME=} values may nest. */
    private static final int MAX_DEPTH = 1000;
    private static final int MAX_TCP_OPTION_BYTES = 40;
    private static final int MAX_TCP_DATAGRAM_BYTES = 64 * 1024;
    private static final int MAX_FAST_OPEN_COOKIE_BYTES = 16;
    private static final int MAX_MD5_DIGEST_BYTES = 16;
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private final String path;
    private final Lexer lexer;
    private final List<Token> ahead = new ArrayList<>();
    private int depth;
    private Config config;

    private Parser(String path, String text) {
        this.path = path;
        // Symbols from -D and --define apply once the options are read (config.c clears them before).
        this.lexer = new Lexer(text, Map.of());
    }

    /** Parses the script file, with no command-line options. */
    public static Script parse(Path file) throws IOException, ScriptException {
        return parse(file, CommandLine.NONE);
    }

    /** Parses the script file under the command line's options (which override the script's own). */
    public static Script parse(Path file, CommandLine commandLine) throws IOException, ScriptException {
        return parse(file.toString(), Files.readString(file, StandardCharsets.ISO_8859_1), commandLine);
    }

    /** Parses script text; {@code path} is how errors name the script. */
    public static Script parse(String path, String text, CommandLine commandLine) throws ScriptException {
        return new Parser(path, text).script(commandLine);
    }

    // --- script := option* init_command? event+ cleanup_command?

    private Script script(CommandLine commandLine) throws ScriptException {
        List<Script.Option> options = new ArrayList<>();
        while (peek().kind() == Kind.OPTION) {
            Token name = next();
            String value = null;
            if (peek().is('=')) {
                next();
                value = optionValue();
            }
            options.add(new Script.Option(name.text(), value, name.line()));
        }
        config = Config.of(path, options, commandLine.options());
        lexer.defines(config.defines());
        if (!ahead.isEmpty()) {
            lexer.rewind(ahead.getFirst());
            ahead.clear();
        }

        Optional<ShellCommand> init = Optional.empty();
        if (peek().kind() == Kind.BACK_QUOTED) {
            Token t = next();
            init = Optional.of(new ShellCommand(t.text(), t.startLine()));
        }
        List<Event> events = new ArrayList<>();
        do {
            events.add(event());
        } while (peek().kind() != Kind.EOF && peek().kind() != Kind.BACK_QUOTED);
        Optional<ShellCommand> cleanup = Optional.empty();
        if (peek().kind() == Kind.BACK_QUOTED) {
            Token t = next();
            cleanup = Optional.of(new ShellCommand(t.text(), t.startLine()));
        }
        if (peek().kind() != Kind.EOF) {
            throw syntaxError(peek());
        }
        checkTimes(events);
        return new Script(path, options, config, init, events, cleanup);
    }

    private String optionValue() throws ScriptException {
        Token t = next();
        switch (t.kind()) {
            case WORD -> {
                if (!peek().is('=')) {
                    return t.text();
                }
                next();
                Token rhs = next();
                return switch (rhs.kind()) {
                    case WORD, INTEGER, HEX_INTEGER, FLOAT -> t.text() + "=" + rhs.text();
                    case STRING -> t.text() + "=\"" + rhs.text() + "\"";
                    case BACK_QUOTED -> t.text() + "=`" + rhs.text() + "`";
                    default -> throw syntaxError(rhs);
                };
            }
            case INTEGER, HEX_INTEGER, FLOAT, STRING, IPV4_ADDR, IPV6_ADDR -> {
                return t.text();
            }
            case RESERVED -> {
                if (t.text().equals("ipv4") || t.text().equals("ipv6")) {
                    return t.text();
                }
                throw syntaxError(t);
            }
            default -> throw syntaxError(t);
        }
    }

    /** run.c {@code get_next_event}: the first event is at time 0; absolute times never go backward. */
    private void checkTimes(List<Event> events) throws ScriptException {
        Event first = events.getFirst();
        if (first.time().usecs() != 0) {
            throw ScriptException.atLine(path, first.line(), "first event should be at time 0");
        }
        for (int i = 1; i < events.size(); i++) {
            Event last = events.get(i - 1);
            Event e = events.get(i);
            if (last.time().isAbsolute() && e.time().isAbsolute() && e.time().usecs() < last.time().usecs()) {
                throw ScriptException.atLine(path, e.line(), "time goes backward in script from "
                        + last.time().usecs() + " usec to " + e.time().usecs() + " usec");
            }
        }
    }

    // --- event := event_time action

    private Event event() throws ScriptException {
        Token t = peek();
        EventTime time;
        int line;
        if (t.is('*')) {
            next();
            line = t.line();
            time = new EventTime(EventTime.Type.ANY, 0, EventTime.NO_RANGE);
        } else if (t.is('+')) {
            next();
            line = peek().line();
            long start = time();
            if (peek().is('~')) {
                next();
                expect('+');
                long end = time();
                line = t.line();
                time = new EventTime(EventTime.Type.RELATIVE_RANGE, start, end);
            } else {
                time = new EventTime(EventTime.Type.RELATIVE, start, EventTime.NO_RANGE);
            }
        } else if (t.kind() == Kind.FLOAT || t.kind() == Kind.INTEGER) {
            line = t.line();
            long start = time();
            if (peek().is('~')) {
                next();
                time = new EventTime(EventTime.Type.ABSOLUTE_RANGE, start, time());
            } else {
                time = new EventTime(EventTime.Type.ABSOLUTE, start, EventTime.NO_RANGE);
            }
        } else {
            throw syntaxError(t);
        }
        int actionLine = peek().line();
        Action action = action();
        if (time.isRange() && time.endUsecs() < time.usecs()) {
            throw ScriptException.semantic(path, actionLine, "time range is backwards");
        }
        boolean outbound = action instanceof Packet p && p.direction() == Direction.OUTBOUND;
        if (time.type() == EventTime.Type.ANY && !outbound) {
            throw ScriptException.semantic(path, line, "event time <star> can only be used with outbound packets");
        }
        if (time.isRange() && !outbound) {
            throw ScriptException.semantic(path, line, "event time range can only be used with outbound packets");
        }
        return new Event(line, time, action);
    }

    /** Seconds as FLOAT or INTEGER, to microseconds as packetdrill converts them. */
    private long time() throws ScriptException {
        Token t = next();
        double seconds;
        if (t.kind() == Kind.FLOAT) {
            seconds = Double.parseDouble(t.text());
        } else if (t.kind() == Kind.INTEGER) {
            seconds = integer(t);
        } else {
            throw syntaxError(t);
        }
        if (seconds < 0) {
            throw ScriptException.semantic(path, t.line(), "negative time");
        }
        if (seconds > 1e12) {
            throw ScriptException.semantic(path, t.line(), "time out of range");
        }
        return t.kind() == Kind.FLOAT ? (long) (seconds * 1.0e6) : integer(t) * 1_000_000L;
    }

    private Action action() throws ScriptException {
        Token t = peek();
        if (t.is('<') || t.is('>')) {
            return packet();
        }
        if (t.kind() == Kind.ELLIPSIS || t.kind() == Kind.WORD) {
            return systemCall();
        }
        if (t.kind() == Kind.BACK_QUOTED) {
            next();
            return new ShellCommand(t.text(), t.startLine());
        }
        if (t.kind() == Kind.CODE) {
            next();
            return new PythonCode(t.text(), t.startLine());
        }
        throw syntaxError(t);
    }

    // --- packets

    private Packet packet() throws ScriptException {
        Token dir = next();
        int line = dir.line();
        Direction direction = dir.is('<') ? Direction.INBOUND : Direction.OUTBOUND;
        List<OuterIp> outer = new ArrayList<>();
        while (peek().isReserved("ipv4") || peek().isReserved("ipv6") || peek().isReserved("gre")
                || peek().isReserved("GREv0") || peek().isReserved("mpls")) {
            Token t = next();
            if (!t.text().startsWith("ipv")) {
                throw ScriptException.semantic(path, line, "GRE and MPLS encapsulation are not supported");
            }
            int version = t.text().equals("ipv4") ? 4 : 6;
            IpInfo ip = optIpInfo(line);
            Token src = next();
            Kind addr = version == 4 ? Kind.IPV4_ADDR : Kind.IPV6_ADDR;
            if (src.kind() != addr) {
                throw syntaxError(src);
            }
            expect('>');
            Token dst = next();
            if (dst.kind() != addr) {
                throw syntaxError(dst);
            }
            expect(':');
            outer.add(new OuterIp(version, ip, src.text(), dst.text()));
        }
        IpInfo ip = optIpInfo(line);
        if (peek().isReserved("udp")) {
            next();
            Ports ports = optPorts(line);
            expect('(');
            long length = integer(expectKind(Kind.INTEGER));
            expect(')');
            if (ip.check() == IpInfo.TosCheck.ECN) {
                throw ScriptException.semantic(path, line, "ECN can only be used with TCP packets");
            }
            if (!isU16(length)) {
                throw ScriptException.semantic(path, line, "UDP payload size out of range");
            }
            return new UdpPacket(direction, outer, ip, ports, (int) length);
        }
        if (peek().isReserved("icmp")) {
            next();
            return icmp(direction, outer, ip, line);
        }
        return tcp(direction, outer, ip, line);
    }

    private TcpPacket tcp(Direction direction, List<OuterIp> outer, IpInfo ip, int line) throws ScriptException {
        Ports ports = optPorts(line);
        String flagText;
        Token f = next();
        if (f.kind() == Kind.WORD) {
            flagText = f.text();
            if (peek().is('.')) {
                next();
                flagText += ".";
            }
        } else if (f.is('.')) {
            flagText = ".";
        } else if (f.is('-')) {
            flagText = "";
        } else {
            throw syntaxError(f);
        }
        long[] seq = seq(line);
        long ack = 0;
        if (peek().isReserved("ack")) {
            next();
            ack = integer(expectKind(Kind.INTEGER));
            if (!isU32(ack)) {
                throw ScriptException.semantic(path, line, "TCP ack sequence number out of range");
            }
        }
        int window = -1;
        if (peek().isReserved("win")) {
            next();
            long w = integer(expectKind(Kind.INTEGER));
            if (!isU16(w)) {
                throw ScriptException.semantic(path, line, "TCP window value out of range");
            }
            window = (int) w;
        }
        int urg = 0;
        if (peek().isReserved("urg")) {
            next();
            long u = integer(expectKind(Kind.INTEGER));
            if (!isU16(u)) {
                throw ScriptException.semantic(path, line, "urg_ptr value out of range");
            }
            urg = (int) u;
        }
        List<TcpOption> options = new ArrayList<>();
        boolean unchecked = false;
        if (peek().is('<')) {
            next();
            if (peek().kind() == Kind.ELLIPSIS) {
                next();
                unchecked = true;
            } else {
                int bytes = 0;
                do {
                    TcpOption o = tcpOption(line);
                    bytes += o.length();
                    if (bytes > MAX_TCP_OPTION_BYTES) {
                        throw ScriptException.semantic(path, line, "TCP option list too long");
                    }
                    options.add(o);
                } while (acceptChar(','));
            }
            expect('>');
        }
        if (ip.ecn() == IpInfo.Ecn.ECT01 && direction != Direction.OUTBOUND) {
            throw ScriptException.semantic(path, line, "[ect01] can only be used with outbound packets");
        }
        if (unchecked && direction != Direction.OUTBOUND) {
            throw ScriptException.semantic(path, line, "<...> for TCP options can only be used with outbound packets");
        }
        // tcp_packet.c new_tcp_packet: padding, sizes, flags, then the window.
        int optionBytes = options.stream().mapToInt(TcpOption::length).sum();
        if ((optionBytes & 3) != 0) {
            throw ScriptException.semantic(path, line, "TCP options are not padded correctly to ensure TCP header is"
                    + " a multiple of 4 bytes: " + (optionBytes & 3) + " excess bytes");
        }
        int ipHeader = config.ipVersion() == Config.IpVersion.IPV6 ? 40 : 20;
        if (ipHeader + 20 + optionBytes + seq[2] > MAX_TCP_DATAGRAM_BYTES) {
            throw ScriptException.semantic(path, line, "TCP segment too large");
        }
        TcpFlags flags;
        try {
            flags = TcpFlags.parse(flagText);
        } catch (IllegalArgumentException e) {
            throw ScriptException.semantic(path, line, e.getMessage());
        }
        if (window == -1 && direction == Direction.INBOUND) {
            throw ScriptException.semantic(path, line, "window must be specified for inbound packets");
        }
        return new TcpPacket(direction, outer, ip, ports, flags, seq[0], (int) seq[2], ack, window, urg, options,
                unchecked);
    }

    /** {@code START:END(LEN)}: start, end, length. */
    private long[] seq(int line) throws ScriptException {
        long start = integer(expectKind(Kind.INTEGER));
        expect(':');
        long end = integer(expectKind(Kind.INTEGER));
        expect('(');
        long length = integer(expectKind(Kind.INTEGER));
        expect(')');
        if (!isU32(start)) {
            throw ScriptException.semantic(path, line, "TCP start sequence number out of range");
        }
        if (!isU32(end)) {
            throw ScriptException.semantic(path, line, "TCP end sequence number out of range");
        }
        if (!isU16(length)) {
            throw ScriptException.semantic(path, line, "TCP payload size out of range");
        }
        if (end != start + length) {
            throw ScriptException.semantic(path, line, "inconsistent TCP sequence numbers and payload size");
        }
        return new long[] {start, end, length};
    }

    private TcpOption tcpOption(int line) throws ScriptException {
        Token t = next();
        if (t.kind() != Kind.RESERVED) {
            throw syntaxError(t);
        }
        switch (t.text()) {
            case "nop" -> {
                return new TcpOption.Nop();
            }
            case "eol" -> {
                return new TcpOption.Eol();
            }
            case "mss" -> {
                long mss = integer(expectKind(Kind.INTEGER));
                if (!isU16(mss)) {
                    throw ScriptException.semantic(path, line, "mss value out of range");
                }
                return new TcpOption.Mss((int) mss);
            }
            case "wscale" -> {
                if (acceptChar('*')) {
                    return new TcpOption.WindowScale(0, true);
                }
                long shift = integer(expectKind(Kind.INTEGER));
                if (shift < 0 || shift > 255) {
                    throw ScriptException.semantic(path, line, "window scale shift count out of range");
                }
                return new TcpOption.WindowScale((int) shift, false);
            }
            case "sackOK" -> {
                return new TcpOption.SackPermitted();
            }
            case "sack" -> {
                List<TcpOption.Sack.Block> blocks = new ArrayList<>();
                do {
                    long left = integer(expectKind(Kind.INTEGER));
                    expect(':');
                    long right = integer(expectKind(Kind.INTEGER));
                    if (!isU32(left)) {
                        throw ScriptException.semantic(path, line, "TCP SACK left sequence number out of range");
                    }
                    if (!isU32(right)) {
                        throw ScriptException.semantic(path, line, "TCP SACK right sequence number out of range");
                    }
                    blocks.add(new TcpOption.Sack.Block(left, right));
                } while (peek().kind() == Kind.INTEGER);
                return new TcpOption.Sack(blocks);
            }
            case "TS" -> {
                expectReserved("val");
                long val = integer(expectKind(Kind.INTEGER));
                expectReserved("ecr");
                long ecr = integer(expectKind(Kind.INTEGER));
                if (!isU32(val)) {
                    throw ScriptException.semantic(path, line, "ts val out of range");
                }
                if (!isU32(ecr)) {
                    throw ScriptException.semantic(path, line, "ecr val out of range");
                }
                return new TcpOption.Timestamp(val, ecr);
            }
            case "md5" -> {
                String hex = hexBlob();
                if (hex.length() / 2 > MAX_MD5_DIGEST_BYTES) {
                    throw ScriptException.semantic(path, line, "TCP MD5 digest longer than 16 bytes");
                }
                byte[] digest = hexBytes(hex);
                if (digest == null) {
                    throw ScriptException.semantic(path, line, "TCP MD5 digest is not a valid hex string");
                }
                return new TcpOption.Md5(digest);
            }
            case "FO", "FOEXP" -> {
                boolean experimental = t.text().equals("FOEXP");
                String hex = peek().kind() == Kind.WORD || peek().kind() == Kind.INTEGER ? hexBlob() : "";
                if ((hex.length() & 1) != 0) {
                    throw ScriptException.semantic(path, line, "TCP fast open cookie has an odd number of digits");
                }
                if (hex.length() / 2 > MAX_FAST_OPEN_COOKIE_BYTES) {
                    throw ScriptException.semantic(path, line, "TCP fast open cookie of " + hex.length() / 2
                            + " bytes exceeds maximum cookie length of " + MAX_FAST_OPEN_COOKIE_BYTES + " bytes");
                }
                byte[] cookie = hexBytes(hex);
                if (cookie == null) {
                    throw ScriptException.semantic(path, line,
                            "TCP fast open cookie '" + hex + "' is not a valid hex string");
                }
                return new TcpOption.FastOpen(cookie, experimental);
            }
            case "ECN" -> {
                List<TcpOption.AccEcn.Counter> counters = new ArrayList<>();
                while (peek().kind() == Kind.WORD && counters.size() < 3) {
                    Token name = next();
                    if (!name.text().equals("e0b") && !name.text().equals("ceb") && !name.text().equals("e1b")) {
                        throw syntaxError(name);
                    }
                    long value = integer(expectKind(Kind.INTEGER));
                    if (value < 0 || value > 0xffffff) {
                        throw ScriptException.semantic(path, line, "AccECN " + name.text() + " out of range");
                    }
                    counters.add(new TcpOption.AccEcn.Counter(name.text(), value));
                }
                if (counters.isEmpty()) {
                    throw syntaxError(peek());
                }
                return new TcpOption.AccEcn(counters);
            }
            default -> throw syntaxError(t);
        }
    }

    /** A hex blob as written: a WORD, or an INTEGER's digits. */
    private String hexBlob() throws ScriptException {
        Token t = next();
        if (t.kind() != Kind.WORD && t.kind() != Kind.INTEGER) {
            throw syntaxError(t);
        }
        return t.text();
    }

    private static byte[] hexBytes(String hex) {
        if ((hex.length() & 1) != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 128)) {
            return null;
        }
        return HexFormat.of().parseHex(hex);
    }

    private IcmpPacket icmp(Direction direction, List<OuterIp> outer, IpInfo ip, int line) throws ScriptException {
        String type = expectKind(Kind.WORD).text();
        String code = peek().kind() == Kind.WORD ? next().text() : null;
        int mtu = -1;
        if (peek().isReserved("mtu")) {
            next();
            long m = integer(expectKind(Kind.INTEGER));
            if (m < 0 || m > Integer.MAX_VALUE) {
                throw ScriptException.semantic(path, line, "ICMP MTU out of range");
            }
            mtu = (int) m;
        }
        int id = 0;
        if (peek().isReserved("id")) {
            next();
            long i = integer(expectKind(Kind.INTEGER));
            if (!isU16(i)) {
                throw ScriptException.semantic(path, line, "ICMP echo id out of range");
            }
            id = (int) i;
        }
        IcmpPacket.Echoed echoed = new IcmpPacket.Echoed(IcmpPacket.Protocol.TCP, 0, 0);
        if (acceptChar('[')) {
            if (peek().isReserved("udp") || peek().isReserved("raw")) {
                IcmpPacket.Protocol protocol = next().text().equals("udp") ? IcmpPacket.Protocol.UDP
                        : IcmpPacket.Protocol.RAW;
                expect('(');
                long n = integer(expectKind(Kind.INTEGER));
                expect(')');
                if (!isU16(n)) {
                    throw ScriptException.semantic(path, line, "ICMP echoed payload size out of range");
                }
                echoed = new IcmpPacket.Echoed(protocol, 0, (int) n);
            } else {
                long[] seq = seq(line);
                echoed = new IcmpPacket.Echoed(IcmpPacket.Protocol.TCP, seq[0], (int) seq[2]);
            }
            expect(']');
        }
        if (ip.ecn() == IpInfo.Ecn.ECT01 && direction != Direction.OUTBOUND) {
            throw ScriptException.semantic(path, line, "[ect01] can only be used with outbound packets");
        }
        return new IcmpPacket(direction, outer, ip, type, code, mtu, id, echoed);
    }

    /** {@code SRC>DST} ports before the flags, or null. */
    private Ports optPorts(int line) throws ScriptException {
        if (peek().kind() != Kind.INTEGER || !peek(1).is('>')) {
            return null;
        }
        long src = integer(next());
        next();
        long dst = integer(expectKind(Kind.INTEGER));
        if (!isU16(src)) {
            throw ScriptException.semantic(path, line, "src port out of range");
        }
        if (!isU16(dst)) {
            throw ScriptException.semantic(path, line, "dst port out of range");
        }
        return new Ports((int) src, (int) dst);
    }

    /** {@code [ip_info]} or {@code (ip_info)}, or none. */
    private IpInfo optIpInfo(int line) throws ScriptException {
        char close;
        if (peek().is('[')) {
            close = ']';
        } else if (peek().is('(')) {
            close = ')';
        } else {
            return IpInfo.NONE;
        }
        next();
        IpInfo.TosCheck check = IpInfo.TosCheck.NONE;
        int tos = 0;
        IpInfo.Ecn ecn = null;
        int flowLabel = 0;
        int ttl = 0;
        Token t = peek();
        if (t.isReserved("ttl")) {
            next();
            long v = integer(expectKind(Kind.INTEGER));
            if (v < 0 || v > 255) {
                throw ScriptException.semantic(path, line, "ttl out of range for 8 bits");
            }
            ttl = (int) v;
        } else if (t.isReserved("flowlabel")) {
            flowLabel = flowLabel(line);
        } else {
            next();
            if (t.isReserved("tos")) {
                long v = integer(expectKind(Kind.HEX_INTEGER));
                if (v < 0 || v > 255) {
                    throw ScriptException.semantic(path, line, "tos out of range for 8 bits");
                }
                check = IpInfo.TosCheck.TOS;
                tos = (int) v;
            } else {
                ecn = switch (t.kind() == Kind.RESERVED ? t.text() : "") {
                    case "noecn" -> IpInfo.Ecn.NOECN;
                    case "ect0" -> IpInfo.Ecn.ECT0;
                    case "ect1" -> IpInfo.Ecn.ECT1;
                    case "ect01" -> IpInfo.Ecn.ECT01;
                    case "ce" -> IpInfo.Ecn.CE;
                    default -> throw syntaxError(t);
                };
                check = IpInfo.TosCheck.ECN;
                tos = Math.max(ecn.bits, 0);
            }
            if (acceptChar(',')) {
                flowLabel = flowLabel(line);
            }
        }
        expect(close);
        return new IpInfo(check, tos, ecn, flowLabel, ttl);
    }

    private int flowLabel(int line) throws ScriptException {
        expectReserved("flowlabel");
        long v = integer(expectKind(Kind.HEX_INTEGER));
        if (v < 0 || v > 0xfffff) {
            throw ScriptException.semantic(path, line, "flowlabel out of range for 20 bits");
        }
        return (int) v;
    }

    // --- system calls: [...END] name(args) = result [ERRNO [(strerror)]] [(note)]

    private SystemCall systemCall() throws ScriptException {
        OptionalLong end = OptionalLong.empty();
        if (peek().kind() == Kind.ELLIPSIS) {
            next();
            end = OptionalLong.of(time());
        }
        Token name = expectKind(Kind.WORD);
        expect('(');
        List<Expression> args = new ArrayList<>();
        if (!peek().is(')')) {
            args = expressionList();
        }
        expect(')');
        expect('=');
        Expression result = expression();
        Optional<String> errno = Optional.empty();
        Optional<String> strerror = Optional.empty();
        if (peek().kind() == Kind.WORD) {
            errno = Optional.of(next().text());
            if (peek().is('(')) {
                strerror = Optional.of(note());
            }
        }
        Optional<String> note = peek().is('(') ? Optional.of(note()) : Optional.empty();
        return new SystemCall(name.text(), args, result, errno, strerror, note, end);
    }

    /** {@code (words ...)}: words as written, one space apart. */
    private String note() throws ScriptException {
        expect('(');
        StringBuilder b = new StringBuilder();
        while (!peek().is(')')) {
            Token w = next();
            if (w.kind() != Kind.WORD && w.kind() != Kind.RESERVED && w.kind() != Kind.INTEGER) {
                throw syntaxError(w);
            }
            b.append(b.isEmpty() ? "" : " ").append(w.text());
        }
        if (b.isEmpty()) {
            throw syntaxError(peek());
        }
        next();
        return b.toString();
    }

    private List<Expression> expressionList() throws ScriptException {
        List<Expression> list = new ArrayList<>();
        do {
            list.add(expression());
        } while (acceptChar(','));
        return list;
    }

    /** An expression; {@code a | b | c} groups to the right, as bison's shift does. */
    private Expression expression() throws ScriptException {
        List<Expression> operands = new ArrayList<>();
        operands.add(primary());
        while (acceptChar('|')) {
            operands.add(primary());
        }
        Expression e = operands.getLast();
        for (int i = operands.size() - 2; i >= 0; i--) {
            e = new Expression.Binary("|", operands.get(i), e);
        }
        return e;
    }

    private Expression primary() throws ScriptException {
        Token t = next();
        if (++depth > MAX_DEPTH) {
            // bison's stack has a bound too; deeper nesting is refused, not a stack overflow
            throw ScriptException.syntax(path, t.line(), t.shown(), "memory exhausted");
        }
        try {
            return primary(t);
        } finally {
            depth--;
        }
    }

    private Expression primary(Token t) throws ScriptException {
        switch (t.kind()) {
            case ELLIPSIS -> {
                return new Expression.Ellipsis();
            }
            case INTEGER -> {
                return new Expression.Int(integer(t), false);
            }
            case HEX_INTEGER -> {
                return new Expression.Int(integer(t), true);
            }
            case WORD -> {
                if (acceptChar('=')) {
                    return new Expression.Binary("=", new Expression.Word(t.text()), expression());
                }
                return new Expression.Word(t.text());
            }
            case STRING -> {
                boolean ellipsis = peek().kind() == Kind.ELLIPSIS;
                if (ellipsis) {
                    next();
                }
                return new Expression.Str(t.text(), ellipsis);
            }
            case RESERVED -> {
                if (t.text().equals("inet_addr") || t.text().equals("inet6_addr")) {
                    expect('(');
                    Token s = expectKind(Kind.STRING);
                    expect(')');
                    int version = t.text().equals("inet_addr") ? 4 : 6;
                    if (version == 6 && !isIpv6(s.text())) {
                        throw ScriptException.semantic(path, t.line(), "cannot parse in6_addr");
                    }
                    return new Expression.InetAddr(version, s.text());
                }
                throw syntaxError(t);
            }
            case CHAR -> {
                if (t.is('[')) {
                    if (acceptChar(']')) {
                        return new Expression.ListOf(List.of());
                    }
                    List<Expression> elements = expressionList();
                    expect(']');
                    return new Expression.ListOf(elements);
                }
                if (t.is('{')) {
                    return struct(t);
                }
                throw syntaxError(t);
            }
            default -> throw syntaxError(t);
        }
    }

    /** After {@code {}: the struct its first field names, an iovec {@code {..., N}}, or a plain group. */
    private Expression struct(Token open) throws ScriptException {
        Token first = peek();
        if (first.kind() == Kind.RESERVED) {
            switch (first.text()) {
                case "sa_family" -> {
                    return sockaddr();
                }
                case "msg_name" -> {
                    return msghdr();
                }
                case "cmsg_level" -> {
                    Expression level = field("cmsg_level");
                    expect(',');
                    Expression type = field("cmsg_type");
                    expect(',');
                    Expression data = field("cmsg_data");
                    expect('}');
                    return new Expression.Cmsg(level, type, data);
                }
                case "scm_sec" -> {
                    long sec = intField("scm_sec");
                    expect(',');
                    long nsec = intField("scm_nsec");
                    expect('}');
                    return new Expression.ScmTimestamping(sec, nsec);
                }
                case "ee_errno" -> {
                    Expression[] f = new Expression[6];
                    String[] names = {"ee_errno", "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data"};
                    for (int i = 0; i < names.length; i++) {
                        if (i > 0) {
                            expect(',');
                        }
                        f[i] = field(names[i]);
                    }
                    expect('}');
                    return new Expression.SockExtendedErr(f[0], f[1], f[2], f[3], f[4], f[5]);
                }
                case "fd" -> {
                    Expression fd = field("fd");
                    expect(',');
                    Expression events = field("events");
                    Expression revents = new Expression.Int(0, false);
                    if (acceptChar(',')) {
                        revents = field("revents");
                    }
                    expect('}');
                    return new Expression.Pollfd(fd, events, revents);
                }
                case "events" -> {
                    Expression events = field("events");
                    expect(',');
                    Token data = next();
                    if (!(data.isReserved("fd") || data.isReserved("ptr") || data.isReserved("u32")
                            || data.isReserved("u64"))) {
                        throw syntaxError(data);
                    }
                    expect('=');
                    Expression value = expression();
                    expect('}');
                    return new Expression.EpollEvent(events, data.text(), value);
                }
                case "onoff" -> {
                    long onoff = intField("onoff");
                    expect(',');
                    long linger = intField("linger");
                    expect('}');
                    return new Expression.Linger(onoff, linger);
                }
                case "flags" -> throw ScriptException.semantic(path, open.line(), "GRE headers are not supported");
                default -> {
                    // any other reserved word cannot start a struct
                }
            }
        }
        if (first.kind() == Kind.ELLIPSIS && peek(1).is(',') && peek(2).kind() == Kind.INTEGER && peek(3).is('}')) {
            Expression base = primary();
            next();
            long length = integer(next());
            next();
            return new Expression.Iovec(base, length);
        }
        List<Expression> elements = expressionList();
        expect('}');
        return new Expression.Group(elements);
    }

    private Expression sockaddr() throws ScriptException {
        expectReserved("sa_family");
        expect('=');
        String family = expectKind(Kind.WORD).text();
        expect(',');
        expectReserved("sin_port");
        expect('=');
        expectReserved("htons");
        expect('(');
        Token portToken = expectKind(Kind.INTEGER);
        long port = integer(portToken);
        expect(')');
        expect(',');
        expectReserved("sin_addr");
        expect('=');
        expectReserved("inet_addr");
        expect('(');
        Token addr = expectKind(Kind.STRING);
        expect(')');
        expect('}');
        if (family.equals("AF_INET")) {
            if (!addr.text().matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || !octets(addr.text())) {
                throw ScriptException.semantic(path, addr.line(), "invalid IPv4 address");
            }
        } else if (family.equals("AF_INET6")) {
            if (!isIpv6(addr.text())) {
                throw ScriptException.semantic(path, addr.line(), "invalid IPv6 address");
            }
        } else {
            throw ScriptException.semantic(path, addr.line(), "sa_family must be AF_INET or AF_INET6");
        }
        return new Expression.Sockaddr(family, (int) (port & 0xffff), addr.text());
    }

    private Expression msghdr() throws ScriptException {
        expectReserved("msg_name");
        expect('(');
        expectKind(Kind.ELLIPSIS);
        expect(')');
        expect('=');
        expectKind(Kind.ELLIPSIS);
        expect(',');
        expectReserved("msg_iov");
        expect('(');
        long iovCount = integer(expectKind(Kind.INTEGER));
        expect(')');
        expect('=');
        Expression.ListOf iov = array();
        expect(',');
        Expression flags = field("msg_flags");
        Expression.ListOf control = new Expression.ListOf(List.of());
        if (acceptChar(',')) {
            expectReserved("msg_control");
            expect('=');
            control = array();
        }
        expect('}');
        return new Expression.Msghdr(iovCount, iov, flags, control);
    }

    private Expression.ListOf array() throws ScriptException {
        Token t = peek();
        if (!t.is('[')) {
            throw syntaxError(t);
        }
        return (Expression.ListOf) primary();
    }

    /** {@code name = expression}. */
    private Expression field(String name) throws ScriptException {
        expectReserved(name);
        expect('=');
        return expression();
    }

    private long intField(String name) throws ScriptException {
        expectReserved(name);
        expect('=');
        return integer(expectKind(Kind.INTEGER));
    }

    private static boolean octets(String dotted) {
        for (String part : dotted.split("\\.")) {
            if (Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIpv6(String s) {
        if (s.isEmpty() || !s.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        String[] halves = s.split("::", -1);
        if (halves.length > 2) {
            return false;
        }
        int groups = 0;
        for (String half : halves) {
            if (half.isEmpty()) {
                continue;
            }
            String[] parts = half.split(":", -1);
            for (int i = 0; i < parts.length; i++) {
                String p = parts[i];
                if (i == parts.length - 1 && p.contains(".")) {
                    if (!p.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || !octets(p)) {
                        return false;
                    }
                    groups += 2;
                } else if (p.isEmpty() || p.length() > 4 || p.contains(".")) {
                    return false;
                } else {
                    groups++;
                }
            }
        }
        return halves.length == 2 ? groups < 8 : groups == 8;
    }

    // --- tokens

    private Token peek() {
        return peek(0);
    }

    private Token peek(int k) {
        while (ahead.size() <= k) {
            ahead.add(lexer.next());
        }
        return ahead.get(k);
    }

    private Token next() {
        Token t = peek();
        ahead.removeFirst();
        return t;
    }

    private boolean acceptChar(char c) {
        if (peek().is(c)) {
            next();
            return true;
        }
        return false;
    }

    private void expect(char c) throws ScriptException {
        if (!acceptChar(c)) {
            throw syntaxError(peek());
        }
    }

    private Token expectKind(Kind kind) throws ScriptException {
        if (peek().kind() != kind) {
            throw syntaxError(peek());
        }
        return next();
    }

    private void expectReserved(String word) throws ScriptException {
        if (!peek().isReserved(word)) {
            throw syntaxError(peek());
        }
        next();
    }

    private ScriptException syntaxError(Token t) {
        return ScriptException.syntax(path, t.line(), t.shown(), "syntax error");
    }

    /** An INTEGER or HEX_INTEGER token's value; one beyond 64 bits is clamped, so range checks refuse it. */
    private static long integer(Token t) {
        String s = t.text();
        BigInteger v = t.kind() == Kind.HEX_INTEGER ? new BigInteger(s.substring(2), 16) : new BigInteger(s);
        return v.max(LONG_MIN).min(LONG_MAX).longValue();
    }

    private static boolean isU16(long v) {
        return v >= 0 && v <= 0xffff;
    }

    private static boolean isU32(long v) {
        return v >= 0 && v <= 0xffffffffL;
    }
}
