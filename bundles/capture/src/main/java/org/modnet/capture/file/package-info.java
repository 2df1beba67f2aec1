/**
 * Capture files: classic pcap and pcapng, read ({@link org.modnet.capture.file.PcapReader}) and
 * written ({@link org.modnet.capture.file.PcapWriter}, {@link org.modnet.capture.file.PcapngWriter}),
 * for tcpdump, tcpreplay and the pcap driver.
 */
@Export
@Version("1.1.0")
package org.modnet.capture.file;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
