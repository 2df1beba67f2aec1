package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class SymbolsTest {

    private static OptionalLong argument(String call, int index) throws ScriptException {
        SystemCall c = (SystemCall) Parser.parse("t.pkt", "0 " + call, CommandLine.NONE).events().getFirst().action();
        return Symbols.integer(c.arguments().get(index));
    }

    @Test
    void flagsOrTogetherToLinuxValues() throws ScriptException {
        assertEquals(OptionalLong.of(2 | 2048), argument("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0", 2));
        assertEquals(OptionalLong.of(4), argument("fcntl(3, F_SETFL, F_SETFL) = 0", 1));
        assertEquals(OptionalLong.of(0x8000), argument("send(4, ..., 40, MSG_MORE) = 40", 3));
        assertEquals(OptionalLong.of(0x541B), argument("ioctl(4, SIOCINQ, [0]) = 0", 1));
    }

    @Test
    void socketOptionsOfTheSuite() {
        assertEquals(OptionalLong.of(1), Symbols.value("SOL_SOCKET"));
        assertEquals(OptionalLong.of(2), Symbols.value("SO_REUSEADDR"));
        assertEquals(OptionalLong.of(6), Symbols.value("SOL_TCP"));
        assertEquals(OptionalLong.of(18), Symbols.value("TCP_USER_TIMEOUT"));
        assertEquals(OptionalLong.of(10), Symbols.value("IP_MTU_DISCOVER"));
        assertEquals(OptionalLong.of(93), Symbols.value("EPROTONOSUPPORT"));
        assertEquals(OptionalLong.of(115), Symbols.value("EINPROGRESS"));
    }

    @Test
    void unknownSymbolsAndNonIntegersHaveNoValue() throws ScriptException {
        assertEquals(OptionalLong.empty(), Symbols.value("NO_SUCH_SYMBOL"));
        assertEquals(OptionalLong.empty(), argument("bind(3, ..., ...) = 0", 1));
        assertEquals(OptionalLong.empty(), argument("fcntl(3, F_SETFL, O_RDWR|NOPE) = 0", 2));
    }
}
