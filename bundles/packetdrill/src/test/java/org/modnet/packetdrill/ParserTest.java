package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.modnet.packetdrill.Expression.Binary;
import org.modnet.packetdrill.Expression.Ellipsis;
import org.modnet.packetdrill.Expression.Int;
import org.modnet.packetdrill.Expression.ListOf;
import org.modnet.packetdrill.Expression.Word;
import org.modnet.packetdrill.Packet.Direction;

class ParserTest {

    private static Script parse(String text) throws ScriptException {
        return Parser.parse("t.pkt", text, CommandLine.NONE);
    }

    private static String error(String text) {
        return assertThrows(ScriptException.class, () -> parse(text)).getMessage();
    }

    private static Action only(String line) throws ScriptException {
        return parse(line).events().getFirst().action();
    }

    @Test
    void parsesAHandshakeWithOptionsSeqAckAndWindow() throws ScriptException {
        Script s = parse("""
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
                +0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
                +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
                +.1 < P. 1:1001(1000) ack 1 win 257
                """);
        assertEquals(4, s.events().size());
        TcpPacket syn = assertInstanceOf(TcpPacket.class, s.events().get(1).action());
        assertEquals(Direction.INBOUND, syn.direction());
        assertTrue(syn.flags().syn());
        assertFalse(syn.flags().ack());
        assertEquals(32792, syn.window());
        assertEquals(List.of(new TcpOption.Mss(1000), new TcpOption.SackPermitted(), new TcpOption.Timestamp(100, 0),
                new TcpOption.Nop(), new TcpOption.WindowScale(7, false)), syn.options());
        assertEquals(20, syn.optionBytes());
        TcpPacket synAck = assertInstanceOf(TcpPacket.class, s.events().get(2).action());
        assertTrue(synAck.flags().syn() && synAck.flags().ack());
        assertEquals(1, synAck.ack());
        assertEquals(-1, synAck.window());
        TcpPacket data = assertInstanceOf(TcpPacket.class, s.events().get(3).action());
        assertEquals(1, data.startSeq());
        assertEquals(1001, data.endSeq());
        assertEquals(1000, data.payloadLength());
        assertTrue(data.flags().psh());
        assertEquals(new EventTime(EventTime.Type.RELATIVE, 100_000, EventTime.NO_RANGE), s.events().get(3).time());
        assertEquals(4, s.events().get(3).line());
    }

    @Test
    void outboundOptionsMayBeUncheckedOrAbsent() throws ScriptException {
        TcpPacket any = assertInstanceOf(TcpPacket.class, only("0 > S 0:0(0) <...>"));
        assertTrue(any.optionsUnchecked());
        TcpPacket none = assertInstanceOf(TcpPacket.class, only("0 > . 1:1(0) ack 1"));
        assertFalse(none.optionsUnchecked());
        assertEquals(List.of(), none.options());
    }

    @Test
    void sackBlocksAreSpaceSeparatedInOneOption() throws ScriptException {
        TcpPacket p = assertInstanceOf(TcpPacket.class,
                only("0 < . 1:1(0) ack 1 win 257 <sack 2001:3001 6001:7001 8001:9001,nop,nop>"));
        TcpOption.Sack sack = assertInstanceOf(TcpOption.Sack.class, p.options().getFirst());
        assertEquals(List.of(new TcpOption.Sack.Block(2001, 3001), new TcpOption.Sack.Block(6001, 7001),
                new TcpOption.Sack.Block(8001, 9001)), sack.blocks());
        assertEquals(28, p.optionBytes());
    }

    @Test
    void noFlagsEcnBitsAndIpInfo() throws ScriptException {
        TcpPacket p = assertInstanceOf(TcpPacket.class, only("0 < - 1:1001(1000) win 20000"));
        assertEquals("", p.flags().text());
        assertFalse(p.flags().ack() || p.flags().syn() || p.flags().fin());
        TcpPacket e = assertInstanceOf(TcpPacket.class, only("0 > [ect0] SEW 0:0(0) <...>"));
        assertTrue(e.flags().ece() && e.flags().cwr() && e.flags().syn());
        assertEquals(IpInfo.Ecn.ECT0, e.ip().ecn());
        assertEquals(IpInfo.TosCheck.ECN, e.ip().check());
        TcpPacket t = assertInstanceOf(TcpPacket.class, only("0 > (tos 0x4, flowlabel 0x12345) . 1:1(0) ack 1"));
        assertEquals(IpInfo.TosCheck.TOS, t.ip().check());
        assertEquals(4, t.ip().tos());
        assertEquals(0x12345, t.ip().flowLabel());
        TcpPacket ttl = assertInstanceOf(TcpPacket.class, only("0 > [ttl 64] . 1:1(0) ack 1"));
        assertEquals(64, ttl.ip().ttl());
    }

    @Test
    void fastOpenCookieMd5AndWildcardWscale() throws ScriptException {
        TcpPacket p = assertInstanceOf(TcpPacket.class, only("0 > S 0:0(0) <mss 1460,FO abcd1234,nop,nop>"));
        TcpOption.FastOpen fo = assertInstanceOf(TcpOption.FastOpen.class, p.options().get(1));
        assertEquals(6, fo.length());
        assertEquals(34, fo.kind());
        TcpPacket empty = assertInstanceOf(TcpPacket.class, only("0 > S 0:0(0) <FO,nop,nop>"));
        assertEquals(0, assertInstanceOf(TcpOption.FastOpen.class, empty.options().getFirst()).cookie().length);
        TcpPacket w = assertInstanceOf(TcpPacket.class, only("0 > S 0:0(0) <nop,wscale *>"));
        assertTrue(assertInstanceOf(TcpOption.WindowScale.class, w.options().get(1)).any());
        TcpPacket md5 = assertInstanceOf(TcpPacket.class,
                only("0 > S 0:0(0) <md5 000102030405060708090a0b0c0d0e0f,nop,nop>"));
        assertEquals(18, md5.options().getFirst().length());
    }

    @Test
    void udpAndIcmpLines() throws ScriptException {
        UdpPacket u = assertInstanceOf(UdpPacket.class, only("0 < udp 1234>53 (100)"));
        assertEquals(100, u.payloadLength());
        assertEquals(new Packet.Ports(1234, 53), u.ports());
        IcmpPacket i = assertInstanceOf(IcmpPacket.class,
                only("0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]"));
        assertEquals("unreachable", i.type());
        assertEquals("frag_needed", i.code());
        assertEquals(1200, i.mtu());
        assertEquals(new IcmpPacket.Echoed(IcmpPacket.Protocol.TCP, 1, 1460), i.echoed());
    }

    @Test
    void errnoResultWithStrerrorText() throws ScriptException {
        SystemCall c = assertInstanceOf(SystemCall.class,
                only("0 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)"));
        assertEquals("connect", c.name());
        assertEquals(List.of(new Int(3, false), new Ellipsis(), new Ellipsis()), c.arguments());
        assertEquals(new Int(-1, false), c.result());
        assertEquals(Optional.of("ECONNREFUSED"), c.errno());
        assertEquals(Optional.of("Connection refused"), c.strerror());
        SystemCall bare = assertInstanceOf(SystemCall.class, only("0 setsockopt(3, 1, 2, [1], 4) = -1 (Invalid Argument)"));
        assertEquals(Optional.empty(), bare.errno());
        assertEquals(Optional.of("Invalid Argument"), bare.note());
        SystemCall flags = assertInstanceOf(SystemCall.class, only("0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)"));
        assertEquals(new Int(2, true), flags.result());
        assertEquals(Optional.of("flags O_RDWR"), flags.note());
    }

    @Test
    void bitwiseOrAndPointerArguments() throws ScriptException {
        SystemCall c = assertInstanceOf(SystemCall.class, only("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"));
        assertEquals(new Binary("|", new Word("O_RDWR"), new Word("O_NONBLOCK")), c.arguments().get(2));
        SystemCall s = assertInstanceOf(SystemCall.class,
                only("0 setsockopt(3, SOL_IP, IP_MTU_DISCOVER, [IP_PMTUDISC_DONT], 1) = 0"));
        assertEquals(new ListOf(List.of(new Word("IP_PMTUDISC_DONT"))), s.arguments().get(3));
    }

    @Test
    void blockingCallsKeepTheirEndTime() throws ScriptException {
        Script s = parse("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+.1...0.200 read(4, ..., 2000) = 2000\n");
        Event e = s.events().get(1);
        assertEquals(new EventTime(EventTime.Type.RELATIVE, 100_000, EventTime.NO_RANGE), e.time());
        SystemCall c = assertInstanceOf(SystemCall.class, e.action());
        assertEquals(OptionalLong.of(200_000), c.blockingEndUsecs());
        assertTrue(c.blocking());
    }

    @Test
    void multiLineCallsWithNestedStructs() throws ScriptException {
        Script s = parse("""
                0 poll([{fd=5, events=POLLIN|POLLOUT, revents=POLLOUT},
                        {fd=6, events=POLLIN}], 2, 0) = 1
                +0 recvmsg(4, {msg_name(...)=...,
                               msg_iov(1)=[{..., 1000}],
                               msg_flags=MSG_ERRQUEUE,
                               msg_control=[{cmsg_level=SOL_IP,
                                             cmsg_type=IP_RECVERR,
                                             cmsg_data={ee_errno=ENOMSG, ee_origin=SO_EE_ORIGIN_TIMESTAMPING,
                                                        ee_type=0, ee_code=0, ee_info=SCM_TSTAMP_SND, ee_data=0}}]},
                              MSG_ERRQUEUE) = 1000
                +0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
                +0 connect(4, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0
                +0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}) = 0
                +0 writev(4, [{..., 10}, {..., 20}], 2) = 30
                """);
        assertEquals(6, s.events().size());
        assertEquals(3, s.events().get(1).line());
        SystemCall poll = assertInstanceOf(SystemCall.class, s.events().getFirst().action());
        ListOf fds = assertInstanceOf(ListOf.class, poll.arguments().getFirst());
        Expression.Pollfd first = assertInstanceOf(Expression.Pollfd.class, fds.elements().getFirst());
        assertEquals(new Binary("|", new Word("POLLIN"), new Word("POLLOUT")), first.events());
        assertEquals(new Word("POLLOUT"), first.revents());
        assertEquals(new Int(0, false),
                assertInstanceOf(Expression.Pollfd.class, fds.elements().get(1)).revents());
        SystemCall recvmsg = assertInstanceOf(SystemCall.class, s.events().get(1).action());
        Expression.Msghdr msg = assertInstanceOf(Expression.Msghdr.class, recvmsg.arguments().get(1));
        assertEquals(1, msg.iovCount());
        assertEquals(new Expression.Iovec(new Ellipsis(), 1000), msg.iov().elements().getFirst());
        Expression.Cmsg cmsg = assertInstanceOf(Expression.Cmsg.class, msg.control().elements().getFirst());
        Expression.SockExtendedErr ee = assertInstanceOf(Expression.SockExtendedErr.class, cmsg.data());
        assertEquals(new Word("SCM_TSTAMP_SND"), ee.info());
        assertEquals(new Expression.Linger(1, 0),
                assertInstanceOf(SystemCall.class, s.events().get(2).action()).arguments().get(3));
        assertEquals(new Expression.Sockaddr("AF_INET", 8080, "192.0.2.1"),
                assertInstanceOf(SystemCall.class, s.events().get(3).action()).arguments().get(1));
        assertEquals(new Expression.EpollEvent(new Word("EPOLLIN"), "fd", new Int(4, false)),
                assertInstanceOf(SystemCall.class, s.events().get(4).action()).arguments().get(3));
    }

    @Test
    void initCleanupShellAndCodeEvents() throws ScriptException {
        Script s = parse("""
                --tolerance_usecs=10000
                `../common/defaults.sh
                sysctl -q net.ipv4.tcp_sack=0`
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
                +0 `nstat > /dev/null`
                +0 %{
                assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd
                }%
                `/tmp/sysctl_restore_${PPID}.sh`
                """);
        assertEquals(List.of(new Script.Option("tolerance_usecs", "10000", 1)), s.options());
        assertEquals(10000, s.config().toleranceUsecs());
        assertEquals(new ShellCommand("../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=0", 2),
                s.initCommand().orElseThrow());
        assertEquals(new ShellCommand("nstat > /dev/null", 5), s.events().get(1).action());
        assertEquals(new PythonCode("\nassert tcpi_snd_cwnd == 10, tcpi_snd_cwnd\n", 6), s.events().get(2).action());
        assertEquals("/tmp/sysctl_restore_${PPID}.sh", s.cleanupCommand().orElseThrow().command());
    }

    @Test
    void timeColumnForms() throws ScriptException {
        Script s = parse("""
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
                * > S 0:0(0) <...>
                0.1~0.2 > S 0:0(0) <...>
                +.3~+.310 > . 1:1(0) ack 1
                1.5 close(3) = 0
                """);
        assertEquals(new EventTime(EventTime.Type.ANY, 0, EventTime.NO_RANGE), s.events().get(1).time());
        assertEquals(new EventTime(EventTime.Type.ABSOLUTE_RANGE, 100_000, 200_000), s.events().get(2).time());
        assertEquals(new EventTime(EventTime.Type.RELATIVE_RANGE, 300_000, 310_000), s.events().get(3).time());
        assertEquals(new EventTime(EventTime.Type.ABSOLUTE, 1_500_000, EventTime.NO_RANGE), s.events().get(4).time());
    }

    @Test
    void defineFromScriptAndCommandLineReplacesWords() throws ScriptException {
        String text = """
                --define=PROTO=IPPROTO_TCP
                0 socket(..., SOCK_STREAM, PROTO) = 3
                +0 < icmp unreachable CODE
                """;
        Script s = Parser.parse("t.pkt", text, CommandLine.parse("-D", "CODE=frag_needed"));
        assertEquals(new Word("IPPROTO_TCP"),
                assertInstanceOf(SystemCall.class, s.events().getFirst().action()).arguments().get(2));
        assertEquals("frag_needed", assertInstanceOf(IcmpPacket.class, s.events().get(1).action()).code());
        Script n = Parser.parse("t.pkt", "0 listen(3, BACKLOG) = 0", CommandLine.parse("--define=BACKLOG=0x10"));
        assertEquals(new Int(16, false),
                assertInstanceOf(SystemCall.class, n.events().getFirst().action()).arguments().get(1));
    }

    @Test
    void packetsPrintBackInTheScriptsSyntax() throws ScriptException {
        for (String line : List.of("< S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>",
                "> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>", "> . 1:1(0) ack 1 <...>",
                "< - 1:1001(1000) win 20000", "> [ect0] FP. 1001:2001(1000) ack 2 <nop,nop,sack 1:2 3:4>",
                "> [tos 0x4,flowlabel 0x12] R 1:1(0)", "> S 0:0(0) <FO 0102030405060708,nop,nop>")) {
            assertEquals(line, assertInstanceOf(TcpPacket.class, only("0 " + line)).toScript());
        }
    }

    // --- errors, in packetdrill's words

    @Test
    void firstEventMustBeAtTimeZero() {
        assertEquals("t.pkt:2: first event should be at time 0",
                error("// comment\n+1 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"));
    }

    @Test
    void absoluteTimeGoingBackwardIsRefused() {
        assertEquals("t.pkt:3: time goes backward in script from 2000000 usec to 1000000 usec",
                error("0 close(3) = 0\n2 close(3) = 0\n1 close(3) = 0\n"));
    }

    @Test
    void syntaxErrorNamesTheLineAndToken() {
        assertEquals("t.pkt:3: parse error at 'ackk': syntax error",
                error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\n+0 > S. 0:0(0) ackk 1\n"));
        assertEquals("t.pkt:1: parse error at '': syntax error", error("0 close(3) ="));
        assertEquals("t.pkt:2: parse error at '': syntax error", error("// nothing but a comment\n"));
        assertEquals("t.pkt:3: parse error at '+': syntax error", error("`init`\n+0 `a` `b`\n+0 close(3) = 0\n"));
    }

    @Test
    void semanticErrorsOfPacketLines() {
        assertEquals("t.pkt:1: semantic error: inconsistent TCP sequence numbers and payload size",
                error("0 < . 1:1000(1000) ack 1 win 257"));
        assertEquals("t.pkt:1: semantic error: window must be specified for inbound packets",
                error("0 < . 1:1(0) ack 1"));
        assertEquals("t.pkt:1: semantic error: Invalid TCP flag: 'X'", error("0 > SX 0:0(0)"));
        assertEquals("t.pkt:1: semantic error: TCP options are not padded correctly to ensure TCP header is a"
                + " multiple of 4 bytes: 3 excess bytes", error("0 > S 0:0(0) <wscale 7>"));
        assertEquals("t.pkt:1: semantic error: <...> for TCP options can only be used with outbound packets",
                error("0 < S 0:0(0) win 100 <...>"));
        assertEquals("t.pkt:1: semantic error: [ect01] can only be used with outbound packets",
                error("0 < [ect01] S 0:0(0) win 100"));
        assertEquals("t.pkt:1: semantic error: TCP option list too long",
                error("0 > S 0:0(0) <TS val 1 ecr 1,TS val 1 ecr 1,TS val 1 ecr 1,TS val 1 ecr 1,TS val 1 ecr 1>"));
        assertEquals("t.pkt:1: semantic error: TCP window value out of range", error("0 < . 1:1(0) win 65536"));
        assertEquals("t.pkt:1: semantic error: TCP payload size out of range", error("0 < . 1:65537(65536) win 1"));
        assertEquals("t.pkt:1: semantic error: TCP fast open cookie has an odd number of digits",
                error("0 > S 0:0(0) <FO abc>"));
        assertEquals("t.pkt:1: semantic error: TCP ack sequence number out of range",
                error("0 < . 1:1(0) ack 4294967296 win 1"));
    }

    @Test
    void semanticErrorsOfTheTimeColumn() {
        assertEquals("t.pkt:2: semantic error: event time <star> can only be used with outbound packets",
                error("0 close(3) = 0\n* close(3) = 0\n"));
        assertEquals("t.pkt:2: semantic error: event time range can only be used with outbound packets",
                error("0 close(3) = 0\n+.1~+.2 < . 1:1(0) win 1\n"));
        assertEquals("t.pkt:2: semantic error: time range is backwards", error("0 close(3) = 0\n+.2~+.1 > . 1:1(0)\n"));
        assertEquals("t.pkt:2: semantic error: negative time", error("0 close(3) = 0\n-1 close(3) = 0\n"));
    }

    @Test
    void optionErrorsNameTheScript() {
        assertEquals("t.pkt: option 'no_such' unknown", error("--no_such=1\n0 close(3) = 0"));
        assertEquals("t.pkt: option 'tolerance_usecs' requires an argument", error("--tolerance_usecs\n0 close(3) = 0"));
        assertEquals("t.pkt: option 'strict_segments' forbids an argument",
                error("--strict_segments=1\n0 close(3) = 0"));
        assertEquals("t.pkt: bad --tolerance_usecs: 0", error("--tolerance_usecs=0\n0 close(3) = 0"));
    }

    @Test
    void deepNestingAndLongChainsAreRefusedOrParsedWithoutOverflow() throws ScriptException {
        String deep = "0 f(" + "[".repeat(100_000) + "1" + "]".repeat(100_000) + ") = 0";
        assertEquals("t.pkt:1: parse error at '[': memory exhausted", error(deep));
        String chain = "0 f(" + "A|".repeat(100_000) + "B) = 0";
        SystemCall c = assertInstanceOf(SystemCall.class, only(chain));
        Binary top = assertInstanceOf(Binary.class, c.arguments().getFirst());
        assertEquals(new Word("A"), top.left());
        assertEquals("t.pkt:1: semantic error: time out of range", error("99999999999999 close(3) = 0"));
    }

    /** Mutated scripts give a parsed script or a ScriptException: never another exception. */
    @Test
    void mutatedInputNeverThrowsAnythingButAScriptError() {
        String base = """
                --tolerance_usecs=10000
                `init`
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
                +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
                +0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
                +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
                +.1...0.2 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1
                +0 > [ect0] P. 1:1001(1000) ack 1 <nop,nop,sack 1:2 3:4>
                +.3~+.4 > F. 1:1(0) ack 1 <FO 0102,md5 0a0b,nop,nop,eol,nop>
                +0 %{ assert tcpi_snd_cwnd == 10 }%
                +0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = -1 EAGAIN (x y)
                `cleanup`
                """;
        String alphabet = "0123456789:.()<>[]{},=|+*~-`\"%/ \nSackwinmsTSvalecr...x";
        Random random = new Random(14);
        int parsed = 0;
        for (int i = 0; i < 3000; i++) {
            StringBuilder b = new StringBuilder(base);
            int edits = 1 + random.nextInt(4);
            for (int e = 0; e < edits; e++) {
                int at = random.nextInt(b.length());
                switch (random.nextInt(3)) {
                    case 0 -> b.deleteCharAt(at);
                    case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                }
            }
            try {
                parse(b.toString());
                parsed++;
            } catch (ScriptException e) {
                assertTrue(e.getMessage().startsWith("t.pkt"), e.getMessage());
            }
        }
        assertTrue(parsed > 0 && parsed < 3000, "some mutations parse, some do not: " + parsed);
    }
}
