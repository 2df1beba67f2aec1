/**
 * AF_XDP for Java programs on modnet: {@code include/uapi/linux/if_xdp.h}. An {@link
 * org.modnet.api.xsk.XdpSocket} ({@link org.modnet.api.xsk.AfXdp#socket}) registers a UMEM (memory of
 * fixed-size chunks the program owns), has its fill, completion, RX and TX rings made
 * ({@link org.modnet.api.xsk.XskRing}: producer and consumer indices and descriptors laid out as the
 * kernel's mmap'ed rings), and binds to a device's receive queue; an XDP program then redirects frames
 * to it through an xskmap ({@code bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS)}).
 */
@Export
@Version("1.0.0")
package org.modnet.api.xsk;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
