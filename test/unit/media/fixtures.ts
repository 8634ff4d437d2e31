// Captured packets for the media codec tests: where each came from is said beside it.

/** RFC 4733 digit "1" from SIPp's /usr/share/sip-tester/dtmf_2833_1.pcap (UDP payloads, in capture order). */
export const DTMF_2833_1 = [
  '80e51f30000033e00e05384e010a0000',
  '80651f31000033e00e05384e010a0140',
  '80651f32000033e00e05384e010a0280',
  '80651f33000033e00e05384e010a03c0',
  '80651f34000033e00e05384e010a0500',
  '80651f35000033e00e05384e010a0640',
  '80651f36000033e00e05384e010a0780',
  '80651f37000033e00e05384e018a08c0',
  '80651f37000033e00e05384e018a08c0',
  '80651f37000033e00e05384e018a08c0',
];

/** First PCMA packet (30 ms, marker set) of SIPp's /usr/share/sip-tester/g711a.pcap. */
export const G711A_FIRST = '8088e6fd000000f0dee0ee8f' + 'd5'.repeat(240);

/** RTCP sender reports sent by ffmpeg 5.1 (`-f rtp`, PCMU): the first, and a later one with counts. */
export const FFMPEG_SR_FIRST = '80c8000684754996eeb18dd99645a1ca317053ec0000000000000000';
export const FFMPEG_SR_LATER = '80c800060cfabd81eeb18de90f5c28f59731a0f90000002700009c00';
