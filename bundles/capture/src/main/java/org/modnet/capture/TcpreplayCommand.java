package org.modnet.capture;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.api.skb.SkBuff;
import org.modnet.capture.file.PcapReader;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code tcpreplay -i DEV [-t] FILE}: plays a pcap or pcapng file into a device's receive path, as if its NIC
 * had received each frame (into the receive ring, then NAPI), at the recorded pace or with
 * {@code -t} (--topspeed) as fast as it can. Prints tcpreplay's summary.
 */
@Component(service = TcpreplayCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=tcpreplay" })
public final class TcpreplayCommand {
    static final String USAGE = "Usage: tcpreplay -i interface [-t|--topspeed] file.pcap|file.pcapng";

    private final NetCore core;

    @Activate
    public TcpreplayCommand(@Reference NetCore core) {
        this.core = core;
    }

    public void tcpreplay(CommandSession session, String... args) throws IOException, InterruptedException {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        String dev = null;
        String file = null;
        boolean topspeed = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-i", "--intf1" -> {
                    if (++i >= args.length) {
                        throw new CommandException(USAGE, 1);
                    }
                    dev = args[i];
                }
                case "-t", "--topspeed" -> topspeed = true;
                default -> {
                    if (args[i].startsWith("-") || file != null) {
                        throw new CommandException("tcpreplay: unknown option '" + args[i] + "'\n" + USAGE, 1);
                    }
                    file = args[i];
                }
            }
        }
        if (dev == null || file == null) {
            throw new CommandException(USAGE, 1);
        }
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "tcpreplay");
        NetDevice target = ns.device(dev);
        if (target == null) {
            throw new CommandException("tcpreplay: Unable to open interface " + dev + ": No such device", 1);
        }
        long sent = 0;
        long failed = 0;
        long bytes = 0;
        long start = System.nanoTime();
        try (PcapReader pcap = new PcapReader(new BufferedInputStream(Files.newInputStream(Path.of(file))))) {
            long firstStamp = -1;
            PcapReader.Record r;
            while ((r = pcap.next()) != null) {
                if (!topspeed) {
                    if (firstStamp < 0) {
                        firstStamp = r.nanos();
                    }
                    long due = start + (r.nanos() - firstStamp);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                SkBuff skb = core.allocSkb(r.bytes().length, org.modnet.api.skb.SkBuffPool.NET_SKB_PAD);
                if (skb == null) {
                    failed++;
                    continue;
                }
                skb.setBytes(skb.put(r.bytes().length), r.bytes(), 0, r.bytes().length);
                if (target.rxQueue(0).receive(skb)) {
                    sent++;
                    bytes += r.bytes().length;
                } else {
                    failed++; // the device refused it (down, or its ring full): counted there too
                }
            }
        } catch (NoSuchFileException e) {
            throw new CommandException("tcpreplay: " + file + ": No such file or directory", 1);
        } catch (IOException e) {
            throw new CommandException("tcpreplay: " + file + ": " + e.getMessage(), 1);
        }
        double secs = Math.max(1e-6, (System.nanoTime() - start) / 1e9);
        System.out.printf("Actual: %d packets (%d bytes) sent in %.2f seconds%n", sent, bytes, secs);
        System.out.printf("Rated: %.1f Bps, %.2f Mbps, %.2f pps%n", bytes / secs, bytes * 8 / secs / 1e6, sent / secs);
        System.out.println("Statistics for network device: " + dev);
        System.out.println("\tSuccessful packets:        " + sent);
        System.out.println("\tFailed packets:            " + failed);
    }
}
