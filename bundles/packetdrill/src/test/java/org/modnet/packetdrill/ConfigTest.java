package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ConfigTest {

    @Test
    void defaultsAreConfigCs() {
        Config c = Config.defaults();
        assertEquals(Config.IpVersion.IPV4, c.ipVersion());
        assertEquals(4000, c.toleranceUsecs());
        assertEquals(12.5, c.tolerancePercent());
        assertEquals(8080, c.bindPort());
        assertEquals(8080, c.connectPort());
        assertEquals(0, c.tcpTsTickUsecs());
        assertEquals(0, c.mss());
        assertEquals(1500, c.mtu());
        assertEquals("192.0.2.1", c.remoteIp());
        assertEquals(24, c.remotePrefixLength());
        assertEquals("192.168.0.1", c.gatewayIp());
        assertEquals(16, c.prefixLength());
        assertEquals("python3", c.codeCommand());
    }

    @Test
    void commandLineOverridesTheScriptsOptions() throws ScriptException {
        Script s = Parser.parse("t.pkt", "--tolerance_usecs=10000\n--mss=1000\n0 close(3) = 0",
                CommandLine.parse("--tolerance_usecs=7000", "t.pkt"));
        assertEquals(7000, s.config().toleranceUsecs());
        assertEquals(1000, s.config().mss());
    }

    @Test
    void runAllPyIpv6VariantGivesItsAddresses() throws ScriptException {
        CommandLine cl = CommandLine.parse("--ip_version=ipv6", "--mtu=1520", "--local_ip=fd3d:0a0b:17d6::1",
                "--gateway_ip=fd3d:0a0b:17d6:8888::1", "--remote_ip=fd3d:fa7b:d17d::1", "--send_omit_free", "a.pkt");
        Config c = Parser.parse("a.pkt", "0 close(3) = 0", cl).config();
        assertEquals(Config.IpVersion.IPV6, c.ipVersion());
        assertEquals(1520, c.mtu());
        assertEquals("fd3d:0a0b:17d6::1", c.localIp());
        assertEquals("fd3d:fa7b:d17d::1", c.remoteIp());
        assertEquals(128, c.remotePrefixLength());
        assertEquals(48, c.prefixLength());
        assertTrue(c.sendOmitFree());
        assertEquals(List.of("a.pkt"), cl.scripts());
    }

    @Test
    void commandLineTakesSeparatedValuesAndDefines() throws ScriptException {
        CommandLine cl = CommandLine.parse("--tolerance_usecs", "9000", "-DX=1", "-D", "Y=\"s\"", "-v", "f.pkt");
        Config c = Config.of("f.pkt", List.of(), cl.options());
        assertEquals(9000, c.toleranceUsecs());
        assertEquals(Map.of("X", "1", "Y", "\"s\""), c.defines());
        assertTrue(c.verbose());
    }

    @Test
    void badValuesAreRefusedInPacketdrillsWords() {
        assertEquals("Command Line: bad --ip_version: ipv5", assertThrows(ScriptException.class,
                () -> Config.of("f.pkt", List.of(), CommandLine.parse("--ip_version=ipv5").options())).getMessage());
        assertEquals("f.pkt: bad --tolerance_percent: 101", assertThrows(ScriptException.class,
                () -> Parser.parse("f.pkt", "--tolerance_percent=101\n0 close(3) = 0", CommandLine.NONE))
                .getMessage());
        assertEquals("Command Line: bad definition: =x", assertThrows(ScriptException.class,
                () -> Config.of("f.pkt", List.of(), CommandLine.parse("-D=x").options())).getMessage());
        assertEquals("Command Line: unrecognized option '--nope'",
                assertThrows(ScriptException.class, () -> CommandLine.parse("--nope")).getMessage());
    }
}
