import Testing

@testable import Shell

@Suite struct SizeTextTests {
    @Test func sizesAreBinaryUnits() {
        #expect(SizeText.parse("512") == 512)
        #expect(SizeText.parse("16KB") == 16 * 1024)
        #expect(SizeText.parse("4MB") == 4 << 20)
        #expect(SizeText.parse("1GB") == 1 << 30)
        #expect(SizeText.parse("4m") == 4 << 20)
        #expect(SizeText.parse("2KiB") == 2048)
        #expect(SizeText.parse("1.5MB") == 3 << 19)
        #expect(SizeText.parse("700B") == 700)
    }

    @Test func badSizesAreRefused() {
        for text in ["", "MB", "-1KB", "lots", "4 MB", "1e30GB", "KB4"] { #expect(SizeText.parse(text) == nil, "\(text)") }
    }

    @Test func ratesTakePerSecond() {
        #expect(SizeText.parseRate("50MB/s") == 50 << 20)
        #expect(SizeText.parseRate("50MB") == 50 << 20)
        #expect(SizeText.parseRate("0") == 0)
        #expect(SizeText.parseRate("fast/s") == nil)
    }

    @Test func formatIsShortAndFaithful() {
        #expect(SizeText.format(700) == "700B")
        #expect(SizeText.format(16 * 1024) == "16KB")
        #expect(SizeText.format(3 << 19) == "1.5MB")
        #expect(SizeText.format(1 << 30) == "1GB")
    }
}
