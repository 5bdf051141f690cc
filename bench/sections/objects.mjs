export default { key: 'objects', title: 'objects', async run() { return { figures: {}, rows: [] }; } };
