fn main() {
    for h in std::env::args().skip(1) {
        let info = awsguard::aws::host::parse_host(&h);
        let v = awsguard::aws::endpoints::fips_verdict(&h);
        println!("{h}\n  info={info:?}\n  fips={v:?}");
    }
}
