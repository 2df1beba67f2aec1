package org.modnet.xdp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.xsk.AfXdp;
import org.modnet.api.xsk.XdpSocket;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The AF_XDP address family ({@code net/xdp/xsk.c}'s {@code xsk_family_ops}): sockets a Java program on
 * modnet opens to take the frames an XDP program redirects to them through an xskmap. A closed socket
 * leaves every xskmap that names it, as {@code xsk_delete_from_maps} does, through whichever eBPF
 * implementation is there (the maps outlive an update of it; the sockets live here and outlive it too).
 */
@Component(service = AfXdp.class, immediate = true)
public final class AfXdpFamily implements AfXdp {
    private volatile BpfSyscall bpf;

    public AfXdpFamily() {
    }

    /** Outside OSGi: with {@code bpf}'s maps. */
    public AfXdpFamily(BpfSyscall bpf) {
        setBpf(bpf);
    }

    /** The eBPF implementation's xskmaps take as a value only the fd of one of these sockets ({@code sockfd_lookup}). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void setBpf(BpfSyscall bpf) {
        bpf.xskSockets(fd -> XdpSock.byFd(fd) != null);
        this.bpf = bpf;
    }

    void unsetBpf(BpfSyscall bpf) {
        if (this.bpf == bpf) {
            this.bpf = null;
        }
    }

    @Override
    public XdpSocket socket(NetNamespace ns) throws NetException {
        int[] fd = new int[1];
        XdpSock s = new XdpSock(ns, () -> deleteFromMaps(fd[0]));
        fd[0] = s.fd();
        return s;
    }

    /** {@code xsk_delete_from_maps}: every xskmap slot that names the socket is emptied. */
    private void deleteFromMaps(int fd) {
        BpfSyscall b = bpf;
        if (b == null) {
            return;
        }
        for (BpfMap m : b.maps()) {
            if (m.type() != BpfMap.MAP_XSKMAP) {
                continue;
            }
            for (byte[] key : m.keys()) {
                byte[] v = m.lookup(key);
                if (v != null && v.length == 4 && ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getInt() == fd) {
                    m.delete(key);
                }
            }
        }
    }
}
